"""Where a mixed-precision model computes its softmaxes and LayerNorm statistics.

Numeric bounds alone cannot show it: a LayerNorm-ed model's outputs absorb a bfloat16 softmax
within the bf16 noise of everything else. So the tests also trace the model (TensorFlow backend)
and read the dtype of every `Softmax` op and of the LayerNorm statistics (`Mean`,
`SquaredDifference`, `Rsqrt`): all must be float32 under `mixed_bfloat16` / `mixed_float16`.
"""

import collections

import tensorflow as tf

NORMALISATION_OPS = ("Softmax", "Rsqrt", "SquaredDifference")


def normalisation_op_dtypes(fn, batch):
    """`{op type: Counter(dtype name)}` of softmax / LayerNorm-statistics ops in `fn(batch)`.

    Args:
        fn: a callable on a dict of int32 tensors (a backbone).
        batch: a dict of numpy int arrays, traced with their shapes.

    Example:
    >>> normalisation_op_dtypes(backbone, batch)["Softmax"]
    Counter({'float32': 4})
    """
    specs = {k: tf.TensorSpec(v.shape, tf.int32) for k, v in batch.items()}
    graph = tf.function(fn).get_concrete_function(specs).graph
    found = collections.defaultdict(collections.Counter)
    for op in graph.get_operations():
        if op.type in NORMALISATION_OPS:
            found[op.type][op.get_attr("T").name] += 1
    return found


def assert_float32_normalisations(fn, batch, softmaxes, layer_norms):
    """Exactly `softmaxes` Softmax ops and `layer_norms` LayerNorms, all in float32."""
    found = normalisation_op_dtypes(fn, batch)
    assert found["Softmax"] == {"float32": softmaxes}, dict(found)
    assert found["Rsqrt"] == {"float32": layer_norms}, dict(found)
    assert found["SquaredDifference"] == {"float32": layer_norms}, dict(found)
