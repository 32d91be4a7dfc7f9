"""Test helpers: write a HF PyTorch-layout state dict as the other released formats.

Written from the producers' side, independently of `convbert_tf.checkpoints.name_maps`:
  * `write_hf_tf_h5`: what `TFConvBertModel.save_pretrained` wrote (Keras 2 `save_weights`
    h5: root attr `layer_names`, one group per top-level layer with attr `weight_names`,
    datasets at `<layer>/<variable name>`). Variable names and layouts follow
    transformers' `modeling_tf_convbert.py` (v4.x): Dense kernels [in, out], SeparableConv1D
    depthwise [K, D, 1] / pointwise [1, D, A] / bias [A], word table `word_embeddings/weight`,
    position and token-type tables `.../embeddings`, `GroupedLinearLayer` kernel
    [out/G, in/G, G], layers `encoder/layer_._{i}`.
  * `write_tf1_checkpoint`: the official TF1 code's variables (`model/modeling.py`):
    `electra/...`, `conv_attn_key` (tf.layers.separable_conv1d), `conv_attn_kernel`,
    `conv_attn_point`, `layer_{i}`, `intermediate/{dense|g_dense}` with GDense kernels
    [G, in/G, out/G], contrib LayerNorm `{gamma, beta}`; plus the generator, heads,
    optimizer slots and global_step that a pretraining checkpoint also holds.
"""

import re

import h5py
import numpy as np

# torch module name -> official TF1 module name (inside a layer's attention/self).
_TF1_SELF_RENAMES = {
    "key_conv_attn_layer": "conv_attn_key",
    "conv_kernel_layer": "conv_attn_kernel",
    "conv_out_layer": "conv_attn_point",
}


def _tf_param(module, param, value, grouped_layout):
    """(TF param name, TF-layout value) for one torch parameter of `module`."""
    leaf = module.rsplit("/", 1)[-1]
    if leaf == "LayerNorm":
        return {"weight": "gamma", "bias": "beta"}[param], value
    if leaf == "depthwise":  # torch Conv1d [D, 1, K] -> Keras [K, D, 1]
        return "depthwise_kernel", np.transpose(value, (2, 0, 1))
    if leaf == "pointwise":  # torch Conv1d [A, D, 1] -> Keras [1, D, A]
        return "pointwise_kernel", np.transpose(value, (2, 1, 0))
    if param == "bias":
        return "bias", value.reshape(-1)  # the separable bias is [A, 1] in torch
    if value.ndim == 3:  # grouped linear, torch [G, in/G, out/G]
        return "kernel", grouped_layout(value)
    return "kernel", value.T  # nn.Linear [out, in] -> [in, out]


def hf_tf_weights(state):
    """`{HF TF variable name (no model prefix, no :0): value}` from a torch state dict."""
    out = {}
    for key, value in state.items():
        module, param = key.rsplit(".", 1)
        # Dots become scopes first: "layer_._{i}" itself contains dots.
        module = re.sub(r"^encoder/layer/(\d+)/", r"encoder/layer_._\1/", module.replace(".", "/"))
        if module == "embeddings/word_embeddings":
            out[f"{module}/weight"] = value
        elif module in ("embeddings/position_embeddings", "embeddings/token_type_embeddings"):
            out[f"{module}/embeddings"] = value
        else:
            if module.endswith(("/depthwise", "/pointwise")):
                name, value = _tf_param(module, param, value, None)
                out[f"{module.rsplit('/', 1)[0]}/{name}"] = value
                continue
            name, value = _tf_param(module, param, value,
                                    lambda w: np.transpose(w, (2, 1, 0)))
            out[f"{module}/{name}"] = value
    return out


def write_hf_tf_h5(state, path, model_name="tf_conv_bert_model", extra=None):
    """Writes `state` (torch layout) as a HF `tf_model.h5` of a `TFConvBertModel`.

    Args:
        state: torch-layout `{key: array}` without the `convbert.` prefix.
        path: output file.
        model_name: the Keras model's name, the first component of each variable name.
        extra: optional `{layer group: {variable name: array}}` of other top-level layers
            (task heads), written next to the `convbert` group.
    """
    groups = {"convbert": {f"{model_name}/convbert/{name}:0": value
                           for name, value in hf_tf_weights(state).items()}}
    for layer, weights in (extra or {}).items():
        groups[layer] = {f"{model_name}/{name}:0": value for name, value in weights.items()}
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode() for name in groups]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.11.0"
        for layer, weights in groups.items():
            group = f.create_group(layer)
            group.attrs["weight_names"] = [name.encode() for name in weights]
            for name, value in weights.items():
                group.create_dataset(name, data=np.asarray(value, "float32"))


def tf1_weights(state, scope="electra"):
    """`{official TF1 variable name: value}` from a torch state dict."""
    # GDense layers (weight and bias) are named g_dense: the modules with a 3-D FFN weight.
    grouped = {key.rsplit(".", 1)[0] for key, value in state.items()
               if value.ndim == 3 and key.endswith("dense.weight")}
    out = {}
    for key, value in state.items():
        module, param = key.rsplit(".", 1)
        if module in grouped:
            module = module[: -len("dense")] + "g_dense"
        module = re.sub(r"^encoder\.layer\.(\d+)\.", r"encoder.layer_\1.", module)
        for torch_name, tf1_name in _TF1_SELF_RENAMES.items():
            module = module.replace(f"self.{torch_name}", f"self.{tf1_name}")
        module = f"{scope}/" + module.replace(".", "/")
        if module.endswith("_embeddings"):  # tf.get_variable tables, no sub-name
            out[module] = value
        elif module.endswith(("/depthwise", "/pointwise")):
            name, value = _tf_param(module, param, value, None)
            out[f"{module.rsplit('/', 1)[0]}/{name}"] = value
        else:
            # GDense kernels are [G, in/G, out/G], as torch's grouped weights.
            name, value = _tf_param(module, param, value, lambda w: w)
            out[f"{module}/{name}"] = value
    return out


def write_tf1_checkpoint(state, prefix, with_pretraining_extras=True):
    """Writes `state` (torch layout) as an official TF1 checkpoint at `prefix`.

    Saved with `tf.raw_ops.SaveV2`: the V2 checkpoint format with raw variable names and no
    object graph, as a TF1 `tf.train.Saver` wrote the released checkpoints.

    Args:
        state: torch-layout `{key: array}` without the `convbert.` prefix.
        prefix: checkpoint prefix to write (`<prefix>.index`, `<prefix>.data-*`).
        with_pretraining_extras: also write generator, heads, optimizer slots and
            global_step variables, which a loader must ignore.

    Returns:
        `{name: array}` of everything written.
    """
    import tensorflow as tf

    weights = {name: np.asarray(value, "float32") for name, value in tf1_weights(state).items()}
    if with_pretraining_extras:
        first = next(name for name in weights if name.endswith("query/kernel"))
        weights.update({
            first + "/adam_m": np.zeros_like(weights[first]),
            first + "/adam_v": np.ones_like(weights[first]),
            "generator/embeddings_project/kernel": np.ones((3, 4), "float32"),
            "generator/encoder/layer_0/attention/self/query/kernel": np.ones((4, 2), "float32"),
            "generator_predictions/output_bias": np.zeros((5,), "float32"),
            "discriminator_predictions/dense/kernel": np.ones((4, 4), "float32"),
            "global_step": np.array(1000, "int64"),
        })
    # SaveV2 writes raw named tensors (no object graph), exactly what a TF1 `Saver` wrote.
    names = sorted(weights)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(weights[name]) for name in names])
    return weights
