"""Readers of Hugging Face weight files into `{backbone tensor name: numpy array}`.

Each reader returns `(tensors, ignored)`: `tensors` holds only the names inside the backbone's
scope (embeddings, embeddings_project, encoder), normalised so that they match `name_maps`;
`ignored` lists what was deliberately skipped (task heads, buffers). Anything unexpected inside
the backbone scope stays in `tensors`, so the validation reports it.

Nothing needs PyTorch: safetensors and h5 are read with safetensors.numpy and h5py, and
`pytorch_model.bin` with `torch_pickle`, a restricted unpickler that rebuilds tensors only.
"""

import re

import numpy as np

from convbert_tf.checkpoints.torch_pickle import load_torch_state_dict

_BACKBONE_SCOPES = ("embeddings", "embeddings_project", "encoder")
# Non-persistent buffers that older transformers versions saved with the weights.
_TORCH_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")


def split_torch_state(state):
    """Strips the optional `convbert.` prefix and separates backbone tensors from the rest.

    Args:
        state: `{key: numpy array}` of a PyTorch-format state dict.

    Returns:
        `(tensors, ignored)` as described in the module docstring.
    """
    tensors, ignored = {}, []
    for key, value in state.items():
        name = key[len("convbert."):] if key.startswith("convbert.") else key
        if name in _TORCH_BUFFERS:
            ignored.append(key)
        elif name.split(".", 1)[0] in _BACKBONE_SCOPES:
            tensors[name] = value
        else:
            # Task heads (generator_predictions, classifier, ...): not part of the backbone.
            ignored.append(key)
    return tensors, sorted(ignored)


def load_safetensors_state(path):
    """`{name: numpy array}` of a `.safetensors` file, with a clear error for a bad file."""
    from safetensors.numpy import load_file

    from convbert_tf.checkpoints.errors import CheckpointFormatError

    try:
        return load_file(path)
    except Exception as error:  # noqa: BLE001 - safetensors raises several types
        # numpy has no bfloat16 (such files need converting first); truncated files fail
        # their header or length checks.
        raise CheckpointFormatError(
            f"Cannot read {path} with safetensors.numpy (truncated, corrupted or bfloat16): "
            f"{error}"
        ) from error


def read_safetensors(path):
    """Reads `model.safetensors` with `safetensors.numpy` (no PyTorch needed)."""
    return split_torch_state(load_safetensors_state(path))


def read_torch_bin(path):
    """Reads `pytorch_model.bin` without PyTorch, executing nothing (see `torch_pickle`)."""
    return split_torch_state(load_torch_state_dict(path))


def read_hf_h5(path):
    """Reads HF `tf_model.h5` (Keras 2 `save_weights` format) with h5py.

    Datasets are named like `convbert/tf_conv_bert_model/convbert/encoder/layer_._0/...:0`
    (h5 group of the main layer, then the TF variable name). The name is cut after the
    `convbert` component that is followed by a backbone scope, so files written with or
    without the model-name prefix both work; everything else (heads) is ignored.
    """
    import h5py

    tensors, ignored = {}, []

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        parts = re.sub(r":\d+$", "", name).split("/")
        for j in range(len(parts) - 1):
            if parts[j] == "convbert" and parts[j + 1] in _BACKBONE_SCOPES:
                tensors["/".join(parts[j + 1:])] = np.asarray(obj[()])
                return
        ignored.append(name)

    from convbert_tf.checkpoints.errors import CheckpointFormatError

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as error:
        raise CheckpointFormatError(
            f"Cannot read {path} as HDF5 (truncated or corrupted?): {error}"
        ) from error
    return tensors, sorted(ignored)
