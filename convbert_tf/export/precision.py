"""Export precision: a bfloat16 copy of a task for CPUs with native bf16 (AVX512_BF16 / AMX).

On such CPUs TensorFlow's oneDNN kernels run bf16 matmuls at 2x (AVX512_BF16) or more (AMX)
the fp32 rate, while XLA's CPU backend runs bf16 no faster than fp32 (measured:
bench/results/serving_latency.json). So a bf16 export is the task rebuilt under Keras's
`bfloat16` policy with the same weights rounded to bf16. LayerNorm and every softmax still
compute in float32: Keras's `layer_normalization` upcasts, and this library's attention and
span-convolution softmaxes cast to float32 themselves; outputs are cast to float32. Not
`mixed_bfloat16`: its float32 variables are cast to bf16 on every call, which at batch 1 cost
about as much as the bf16 matmuls saved on ConvBERT-base (the bf16 rows of
bench/results/serving_latency.json are this export).
"""

import logging
import os

import keras

PRECISIONS = ("float32", "bfloat16")
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
    """Returns `config` with every float32 `dtype` entry (string or policy dict) set to `policy`."""
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
            out[key] = {**value, "config": {**value["config"], "name": policy}}
        else:
            out[key] = _rewrite_dtypes(value, policy)
    return out


def with_dtype_policy(task, policy="bfloat16"):
    """A copy of `task` whose float32 layers use `policy`, with `task`'s weights.

    Integer-typed parts (the preprocessor's int32 outputs) are left alone.

    Args:
        task: a built Keras task (or any serialisable Keras model).
        policy: a Keras dtype policy name, e.g. `"bfloat16"` or `"mixed_bfloat16"`.

    Returns:
        The new model.

    Example:
    >>> fast = with_dtype_policy(classifier, "bfloat16")
    >>> fast.get_layer("logits").compute_dtype
    'bfloat16'
    """
    config = _rewrite_dtypes(keras.saving.serialize_keras_object(task), policy)
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(task.get_weights())
    return copy
