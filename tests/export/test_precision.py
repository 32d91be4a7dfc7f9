"""`export_saved_model(precision="bfloat16")`: a bfloat16 copy with the same weights."""

import logging
import re

import numpy as np
import pytest

from tests.export.conftest import TEXTS


def test_cpu_flag_detection():
    from convbert_tf.export.precision import cpu_has_native_bf16, warn_if_no_native_bf16

    assert cpu_has_native_bf16({"avx512f", "avx512_bf16"})
    assert cpu_has_native_bf16({"amx_bf16"})
    assert not cpu_has_native_bf16({"avx2", "avx512f"})
    assert not warn_if_no_native_bf16({"amx_bf16"})


def test_warning_when_the_cpu_lacks_bf16(caplog):
    from convbert_tf.export.precision import warn_if_no_native_bf16

    with caplog.at_level(logging.WARNING, logger="convbert_tf.export.precision"):
        assert warn_if_no_native_bf16({"avx2"})
    assert "AVX512_BF16" in caplog.text


def test_bfloat16_copy_keeps_weights_rounded_to_bf16(classifier):
    import ml_dtypes

    from convbert_tf.export.precision import with_dtype_policy

    copy = with_dtype_policy(classifier, "bfloat16")
    assert copy is not classifier
    assert copy.backbone.dtype_policy.name == "bfloat16"
    assert copy.get_layer("logits").compute_dtype == "bfloat16"
    assert {v.dtype for v in copy.weights} == {"bfloat16"}
    for a, b in zip(copy.get_weights(), classifier.get_weights()):
        np.testing.assert_array_equal(np.asarray(a, np.float32),
                                      b.astype(ml_dtypes.bfloat16).astype(np.float32))
    mixed = with_dtype_policy(classifier, "mixed_bfloat16")
    assert {v.dtype for v in mixed.weights} == {"float32"}
    # The original is untouched.
    assert classifier.backbone.dtype_policy.name == "float32"


def test_bfloat16_export_agrees_with_float32(classifier, expected, tmp_path):
    import tensorflow as tf

    from convbert_tf.export import export_saved_model

    export_dir = export_saved_model(classifier, tmp_path / "bf16", precision="bfloat16",
                                    warmup_batch_sizes=())
    out = tf.saved_model.load(export_dir).signatures["serving_default"](text=tf.constant(TEXTS))
    logits = out["logits"].numpy()
    assert logits.dtype == np.float32
    # bf16 keeps 8 mantissa bits; measured max |diff| 0.0010 on these logits (|logit| < 1;
    # 0.0027 when every op ran in bf16), bound at ~10x. The SST-2 label agreement of a trained model is in
    # bench/results/export_accuracy.json.
    np.testing.assert_allclose(logits, expected["texts"], atol=1e-2, rtol=0)


def test_unknown_precision_is_rejected(classifier, tmp_path):
    from convbert_tf.export import export_saved_model

    with pytest.raises(ValueError, match="precision"):
        export_saved_model(classifier, tmp_path / "m", precision="float16")


@pytest.fixture(params=["convbert", "groupbert"])
def task(request, classifier):
    """The trained ConvBERT classifier, and a GroupBERT one (initial weights)."""
    if request.param == "convbert":
        return classifier
    from convbert_tf.tasks import ConvBertTextClassifier
    from tests.export.conftest import tiny_backbone

    return ConvBertTextClassifier(tiny_backbone("groupbert"), 2, preprocessor=None)


def test_bf16_matmul_copy_gives_bf16_to_matmul_layers_only(task):
    from convbert_tf.export.precision import matmul_layer_paths, with_bf16_matmuls

    kind = "groupbert" if "group_bert" in task.backbone.name else "convbert"
    copy = with_bf16_matmuls(task)
    matmul_layers = set(matmul_layer_paths(task))
    assert "logits" in matmul_layers
    if kind == "convbert":  # the separable key convolution's pointwise matmul too
        assert any(p.endswith("span_conv/key_conv_attn_layer") for p in matmul_layers)
    else:  # GroupBERT's grouped convolution is element-wise-sized work: float32
        assert not any(p.endswith("conv_module") for p in matmul_layers)
    dtypes = {w.path: w.dtype for w in copy.weights if w.dtype != "int64"}
    for path, dtype in dtypes.items():
        owner = path.rpartition("/")[0]
        assert dtype == ("bfloat16" if owner in matmul_layers else "float32"), path
    assert copy.backbone.compute_dtype == "float32"
    assert copy.get_layer("logits").compute_dtype == "bfloat16"
    inputs = {"token_ids": np.arange(1, 65, dtype="int32").reshape(2, 32),
              "segment_ids": np.zeros((2, 32), "int32"),
              "padding_mask": np.ones((2, 32), "int32")}
    want = np.asarray(task(inputs, training=False))
    got = np.asarray(copy(inputs, training=False)).astype(np.float32)
    # Measured max |diff| 0.0017 (ConvBERT, |logit| < 0.44) and 7e-5 (GroupBERT, initial
    # weights, |logit| < 0.01): bf16 weights and matmul inputs. Bound at ~3x the larger.
    np.testing.assert_allclose(got, want, atol=5e-3, rtol=0)
    # The original is untouched.
    assert {w.dtype for w in task.weights} <= {"float32", "int64"}


def test_bf16_export_keeps_element_wise_ops_in_float32(task):
    """The reason for the export's design: TF's CPU element-wise kernels are slower in bf16
    (bench/results/serving_bf16_profile.json). Only matmuls, their bias adds, slices of bf16
    weights and the activations computed inside a dense (the pooler's tanh) may produce bf16."""
    import tensorflow as tf

    from convbert_tf.export.precision import matmul_layer_paths, with_bf16_matmuls

    copy = with_bf16_matmuls(task)
    spec = {k: tf.TensorSpec((None, 32), tf.int32)
            for k in ("token_ids", "segment_ids", "padding_mask")}
    graph = tf.function(lambda x: copy(x, training=False)).get_concrete_function(spec).graph
    element_wise = {"Mul", "AddV2", "Sub", "Erf", "Erfc", "Sigmoid", "Softmax", "Mean",
                    "SquaredDifference", "Rsqrt", "StridedSlice", "Pad", "Exp", "Max", "Sum"}
    bf16 = [op for op in graph.get_operations()
            if op.type in element_wise and op.outputs and op.outputs[0].dtype == tf.bfloat16]
    # Allowed: ops inside a matmul layer (its bias add) and slices of a bf16 weight.
    matmul_layers = {path.rpartition("/")[2] for path in matmul_layer_paths(task)}

    def inside_matmul_layer(op):  # ".../grouped_down_1/add": layer scope, then op name
        return re.sub(r"_\d+$", "", op.name.split("/")[-2]) in matmul_layers

    on_activations = [op.name for op in bf16 if not inside_matmul_layer(op)
                      and op.inputs[0].op.type != "ReadVariableOp"]
    assert not on_activations
    assert any(op.type == "MatMul" and op.outputs[0].dtype == tf.bfloat16
               for op in graph.get_operations())


def test_bf16_copy_refuses_a_policy_map_that_misses_the_matmuls(classifier, monkeypatch):
    import keras

    from convbert_tf.export import precision

    # As if the copy's layer paths had changed: the map matches none of its layers.
    monkeypatch.setattr(precision, "bf16_matmul_policy",
                        lambda model: keras.dtype_policies.DTypePolicyMap("float32", {}))
    with pytest.raises(RuntimeError, match="no bf16 weight at"):
        precision.with_bf16_matmuls(classifier)
