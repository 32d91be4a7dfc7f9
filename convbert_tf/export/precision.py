"""Export precision: bfloat16 matmuls for CPUs with native bf16 (AVX512_BF16 / AMX).

On such CPUs TensorFlow's oneDNN kernels run bf16 matmuls at 2x (AVX512_BF16) or more (AMX)
the fp32 rate, while XLA's CPU backend runs bf16 no faster than fp32 (measured:
bench/results/serving_latency.json). TensorFlow's element-wise CPU kernels, though, are
slower in bf16 than in float32 (bench/results/serving_bf16_profile.json: Mul, AddV2 and
GELU's Erfc 1.5-4x slower), and ConvBERT's span convolution is element-wise work. So a bf16
export gives bfloat16 (weights stored in bf16) only to the layers that own a matmul kernel
(`bf16_matmul_policy`, a Keras `DTypePolicyMap`) and keeps everything else, LayerNorm,
softmax, GELU and the span convolution's shift-and-sum included, in float32; the owners cast
what their bf16 sub-layers return (`convbert_tf.layers.grouped_dense.in_compute_dtype`).
Not `mixed_bfloat16`: its float32 variables are cast to bf16 on every call, which at batch 1
cost about as much as the bf16 matmuls saved on ConvBERT-base.
"""

import logging
import os
import re

import keras

PRECISIONS = ("float32", "bfloat16")
# Weights that make their layer a matmul: Dense / EinsumDense / GroupedDense `kernel`, the
# separable key convolution's `pointwise_kernel`. Not GroupBERT's `conv_kernel` (16 x 16
# blocks per tap: element-wise-sized work, and its module's GLU / swish would follow it).
MATMUL_WEIGHTS = ("kernel", "pointwise_kernel")
# Keras policy names that mean "full precision": these are the ones rewritten.
_FLOAT_POLICIES = ("float32",)

logger = logging.getLogger(__name__)


def check_precision(precision):
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {list(PRECISIONS)}. Received: {precision!r}")
    return precision


def cpu_flags(path="/proc/cpuinfo"):
    """The CPU feature flags of the first processor in `/proc/cpuinfo` (empty set elsewhere)."""
    if not os.path.isfile(path):
        return set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_native_bf16(flags=None):
    """True when the CPU has bf16 matmul instructions (AVX512_BF16 or AMX-BF16)."""
    flags = cpu_flags() if flags is None else set(flags)
    return bool({"avx512_bf16", "amx_bf16"} & flags)


def warn_if_no_native_bf16(flags=None):
    """Logs a warning (and returns True) when bf16 would be emulated, i.e. slower than fp32."""
    if cpu_has_native_bf16(flags):
        return False
    logger.warning(
        "precision='bfloat16' on a CPU without AVX512_BF16 / AMX-BF16: oneDNN emulates bf16 "
        "there, which is usually slower than float32. The export still works and runs on "
        "servers that have it; benchmark on the serving machine."
    )
    return True


def _rewrite_dtypes(config, policy):
    """Returns `config` with every float32 `dtype` entry (string or policy dict) set to `policy`
    (a policy name, or a serialised policy such as a `DTypePolicyMap`'s)."""
    if isinstance(config, list):
        return [_rewrite_dtypes(c, policy) for c in config]
    if not isinstance(config, dict):
        return config
    out = {}
    for key, value in config.items():
        if key == "dtype" and value in _FLOAT_POLICIES:
            out[key] = policy
        elif key == "dtype" and isinstance(value, dict) \
                and value.get("class_name") == "DTypePolicy" \
                and value.get("config", {}).get("name") in _FLOAT_POLICIES:
            out[key] = policy if isinstance(policy, dict) else \
                {**value, "config": {**value["config"], "name": policy}}
        else:
            out[key] = _rewrite_dtypes(value, policy)
    return out


def matmul_layer_paths(model):
    """The paths of the layers of `model` that own a matmul weight (`MATMUL_WEIGHTS`)."""
    paths = set()
    for weight in model.weights:
        layer_path, _, name = weight.path.rpartition("/")
        if name in MATMUL_WEIGHTS:
            paths.add(layer_path)
    return sorted(paths)


def bf16_matmul_policy(model):
    """A dtype policy map: `bfloat16` for the layers of `model` that own a matmul weight,
    `float32` for every other layer.

    Args:
        model: a built Keras model; its layer paths are the map's keys.

    Returns:
        A `keras.dtype_policies.DTypePolicyMap` to pass as a model's `dtype` (see
        `with_dtype_policy`).

    Example:
    >>> policy = bf16_matmul_policy(classifier)
    >>> policy["transformer_layer_0/intermediate"].name  # a layer path, as `Layer.path`
    'bfloat16'
    """
    bf16 = keras.dtype_policies.DTypePolicy("bfloat16")
    # Keys are regular expressions (exact keys are tried first): escape the paths.
    return keras.dtype_policies.DTypePolicyMap(
        "float32", {re.escape(path): bf16 for path in matmul_layer_paths(model)}
    )


def with_dtype_policy(task, policy="bfloat16"):
    """A copy of `task` whose float32 layers use `policy`, with `task`'s weights.

    Integer-typed parts (the preprocessor's int32 outputs) are left alone.

    Args:
        task: a built Keras task (or any serialisable Keras model).
        policy: a Keras dtype policy name, e.g. `"bfloat16"` or `"mixed_bfloat16"`, or a
            `DTypePolicyMap` such as `bf16_matmul_policy(task)`.

    Returns:
        The new model.

    Example:
    >>> fast = with_dtype_policy(classifier, "bfloat16")
    >>> fast.get_layer("logits").compute_dtype
    'bfloat16'
    """
    if isinstance(policy, keras.dtype_policies.DTypePolicyMap):
        policy = keras.saving.serialize_keras_object(policy)
    config = _rewrite_dtypes(keras.saving.serialize_keras_object(task), policy)
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(task.get_weights())
    return copy


def with_bf16_matmuls(task):
    """A copy of `task` with bf16 weights and matmuls and everything else in float32.

    Args:
        task: a built task of this library (its layers cast what their sub-layers return).

    Returns:
        The new model, with `task`'s weights rounded to bf16 where they feed a matmul.

    Raises:
        RuntimeError: when a matmul weight of `task` has no bf16 counterpart in the copy
            (the copy's layer paths differ from `task`'s, so the policy map missed them).

    Example:
    >>> fast = with_bf16_matmuls(classifier)
    >>> fast.get_layer("conv_bert_backbone").compute_dtype
    'float32'
    """
    copy = with_dtype_policy(task, bf16_matmul_policy(task))
    copy_dtypes = {w.path: w.dtype for w in copy.weights}
    missed = [w.path for w in task.weights if w.path.rpartition("/")[2] in MATMUL_WEIGHTS
              and copy_dtypes.get(w.path) != "bfloat16"]
    if missed:
        raise RuntimeError(f"bf16 export: the copy has no bf16 weight at {missed[:3]}: its "
                           "layer paths differ from the original task's.")
    return copy
