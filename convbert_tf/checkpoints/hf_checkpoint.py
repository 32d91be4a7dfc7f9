"""Loading Hugging Face format checkpoints: ConvBERT (`YituTech/conv-bert-*`) and GroupBERT
(`Graphcore/groupbert-base-uncased`)."""

import logging
import os

import numpy as np

from convbert_tf.checkpoints.errors import CheckpointNotFoundError
from convbert_tf.checkpoints.groupbert_names import (
    groupbert_mlm_sources,
    groupbert_torch_sources,
    split_groupbert_state,
)
from convbert_tf.checkpoints.hf_config import (
    backbone_config_from_hf,
    check_model_type,
    groupbert_config_from_hf,
    read_json,
)
from convbert_tf.checkpoints.hf_readers import (
    load_safetensors_state,
    read_hf_h5,
    read_safetensors,
    read_torch_bin,
)
from convbert_tf.checkpoints.name_maps import hf_tf_sources, hf_torch_sources
from convbert_tf.checkpoints.torch_pickle import load_torch_state_dict
from convbert_tf.checkpoints.weight_mapping import assign_weights

logger = logging.getLogger(__name__)

# In order of preference: the first two load without PyTorch.
WEIGHT_FILES = ("model.safetensors", "tf_model.h5", "pytorch_model.bin")


def find_hf_weights(path):
    """Resolves a HF directory (or a weights file inside one) to `(directory, weights file)`.

    Args:
        path: a directory holding `config.json` and one of `WEIGHT_FILES`, or the path of a
            `.safetensors`, `.h5` or `.bin` file with `config.json` beside it.

    Raises:
        CheckpointNotFoundError: the path, `config.json` or every weights file is missing.
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        directory, weights = os.path.dirname(path) or ".", path
    elif os.path.isdir(path):
        directory = path
        candidates = [os.path.join(path, name) for name in WEIGHT_FILES]
        weights = next((c for c in candidates if os.path.isfile(c)), None)
        if weights is None:
            raise CheckpointNotFoundError(
                f"No weights in {path}: expected one of {', '.join(WEIGHT_FILES)} "
                "(sharded checkpoints are not supported)."
            )
    else:
        raise CheckpointNotFoundError(f"Checkpoint path does not exist: {path}")
    config_path = os.path.join(directory, "config.json")
    if not os.path.isfile(config_path):
        raise CheckpointNotFoundError(f"Missing {config_path} (the Hugging Face model config).")
    return directory, weights


def read_hf_weights(weights_path):
    """Reads a HF weights file; returns `(tensors, ignored, format)` with format 'torch'|'h5'."""
    if weights_path.endswith(".safetensors"):
        return (*read_safetensors(weights_path), "torch")
    if weights_path.endswith(".h5"):
        return (*read_hf_h5(weights_path), "h5")
    if weights_path.endswith((".bin", ".pt", ".pth")):
        return (*read_torch_bin(weights_path), "torch")
    raise ValueError(
        f"Unknown weights file type: {weights_path} (expected .safetensors, .h5 or .bin)."
    )


def load_hf_checkpoint(path, dtype=None, masked_lm=False):
    """Builds the backbone (or masked-LM task) held by a Hugging Face checkpoint directory.

    `config.json`'s `model_type` picks the model: "convbert" (`YituTech/conv-bert-*`) gives a
    `ConvBertBackbone`, "groupbert" (`Graphcore/groupbert-base-uncased`) a `GroupBertBackbone`.
    The weights come from `model.safetensors`, `tf_model.h5` (ConvBERT) or
    `pytorch_model.bin` (first found, in that order; or the file `path` names), float32,
    float16 or bfloat16; none of them needs PyTorch, and a `.bin` never executes code.
    Buffers (`position_ids`), the tied decoder duplicates, the NSP head and other task heads are
    skipped (logged). Every tensor is validated before any is assigned: a bad file raises one
    `ValueError` listing all missing, mis-shaped and unexpected tensors, and nothing is loaded.

    Args:
        path: a directory like a hub download, or a weights file in one.
        dtype: dtype or dtype policy of the model (e.g. "mixed_bfloat16"); None: default.
        masked_lm: return a `ConvBertMaskedLM` whose head holds the checkpoint's MLM head
            (`cls.predictions.*`, GroupBERT) instead of the bare backbone.

    Returns:
        A `ConvBertBackbone` / `GroupBertBackbone`, or a `ConvBertMaskedLM` with `masked_lm`.

    Raises:
        CheckpointNotFoundError: (a ValueError) missing directory, config or weights file.
        CheckpointFormatError: (a ValueError) truncated/corrupted file; `UnsafeCheckpointError`
            for a pickle naming any global besides the tensor machinery.
        ValueError: unsupported `model_type` (named in the message), activation, or tensors
            that do not match.

    Example:
    >>> backbone = load_hf_checkpoint("conv-bert-small/")
    >>> mlm = load_hf_checkpoint("groupbert-base-uncased/", masked_lm=True)
    """
    directory, weights_path = find_hf_weights(path)
    config_path = os.path.join(directory, "config.json")
    config = read_json(config_path)
    model_type = check_model_type(config, source=config_path)
    if model_type == "groupbert":
        return _load_groupbert(config, config_path, weights_path, dtype, masked_lm)
    if masked_lm:
        raise ValueError(
            f"{config_path}: masked_lm=True needs a checkpoint with an MLM head (GroupBERT's "
            "cls.predictions); the YituTech ConvBERT checkpoints are discriminators without one."
        )
    from convbert_tf.models import ConvBertBackbone

    kwargs = backbone_config_from_hf(config, source=config_path)
    tensors, ignored, file_format = read_hf_weights(weights_path)
    if ignored:
        logger.info("Ignoring %d non-backbone tensors of %s: %s", len(ignored), weights_path,
                    ", ".join(ignored))
    backbone = ConvBertBackbone(**kwargs, dtype=dtype)
    sources = hf_tf_sources(backbone) if file_format == "h5" else hf_torch_sources(backbone)
    assign_weights(backbone, tensors, sources, weights_path)
    return backbone


def _read_torch_layout_state(weights_path):
    if weights_path.endswith(".safetensors"):
        return load_safetensors_state(weights_path)
    if weights_path.endswith((".bin", ".pt", ".pth")):
        return load_torch_state_dict(weights_path)
    raise ValueError(
        f"{weights_path}: GroupBERT checkpoints load from pytorch_model.bin or "
        "model.safetensors (the released model has no tf_model.h5)."
    )


def _load_groupbert(config, config_path, weights_path, dtype, masked_lm):
    from convbert_tf.models import GroupBertBackbone

    kwargs = groupbert_config_from_hf(config, source=config_path)
    state = _read_torch_layout_state(weights_path)
    tensors, head, ignored = split_groupbert_state(state)
    _check_tied_duplicates(state, weights_path)
    # Graphcore's TF1 code has no convolution bias; a checkpoint converted from it neither.
    kwargs["use_conv_bias"] = any(name.endswith("convolution.groupconv.bias") for name in tensors)
    backbone = GroupBertBackbone(**kwargs, dtype=dtype)
    sources = groupbert_torch_sources(backbone)
    if not masked_lm:
        if head:
            ignored = sorted([*ignored, *head])
        logger.info("Skipping %d tensors of %s (buffers, tied decoder duplicates, NSP and "
                    "MLM heads): %s", len(ignored), weights_path, ", ".join(ignored))
        assign_weights(backbone, tensors, sources, weights_path)
        return backbone
    if not head:
        raise ValueError(f"{weights_path} has no MLM head (cls.predictions.*): load the "
                         "backbone alone (masked_lm=False).")
    logger.info("Skipping %d tensors of %s (buffers, tied decoder duplicates, NSP head): %s",
                len(ignored), weights_path, ", ".join(ignored))
    from convbert_tf.tasks.masked_lm import ConvBertMaskedLM

    model = ConvBertMaskedLM(backbone)
    # Backbone and head are validated together, so a bad head leaves the backbone untouched.
    assign_weights(model, {**tensors, **head}, [*sources, *groupbert_mlm_sources()],
                   weights_path)
    return model


def _check_tied_duplicates(state, weights_path):
    """The decoder copies are skipped because they equal the tied tensors; say so if not."""
    pairs = (("cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"),
             ("cls.predictions.decoder.bias", "cls.predictions.bias"))
    for duplicate, tied in pairs:
        if duplicate in state and tied in state and not np.array_equal(state[duplicate],
                                                                       state[tied]):
            logger.warning("%s: %s differs from %s; the head is tied to the latter, as in the "
                           "released model.", weights_path, duplicate, tied)
