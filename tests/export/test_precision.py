"""`export_saved_model(precision="bfloat16")`: a bfloat16 copy with the same weights."""

import logging

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
    # bf16 keeps 8 mantissa bits; measured max |diff| 0.0027 on these logits (|logit| < 1),
    # bound at ~4x. The SST-2 label agreement of a trained model is in
    # bench/results/bf16_agreement.json.
    np.testing.assert_allclose(logits, expected["texts"], atol=1e-2, rtol=0)


def test_unknown_precision_is_rejected(classifier, tmp_path):
    from convbert_tf.export import export_saved_model

    with pytest.raises(ValueError, match="precision"):
        export_saved_model(classifier, tmp_path / "m", precision="float16")
