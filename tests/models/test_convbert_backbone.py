import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone
from tests.conftest import REPO_ROOT, backbone_batch
from tests.models.precision_checks import (
    assert_float32_normalisations,
    normalisation_op_dtypes,
)
from tests.numpy_reference import convbert_layer, dense, layer_norm

TINY = {
    "vocabulary_size": 100,
    "num_layers": 2,
    "num_heads": 4,
    "hidden_dim": 32,
    "intermediate_dim": 64,
    "embedding_dim": 16,
    "conv_kernel_size": 5,
    "num_groups": 2,
    "dropout": 0.0,
    "max_sequence_length": 24,
}


def _tiny(**overrides):
    return ConvBertBackbone(**{**TINY, **overrides})


@pytest.mark.parametrize(
    "preset, params",
    [
        ("conv_bert_small_en", 13_143_768),
        ("conv_bert_medium_small_en", 17_475_888),
        ("conv_bert_base_en", 105_680_520),
    ],
)
def test_preset_parameter_counts_match_released_checkpoints(preset, params):
    backbone = ConvBertBackbone.from_preset(preset, load_weights=False)
    assert backbone.count_params() == params
    assert ConvBertBackbone.presets[preset]["metadata"]["params"] == params


def test_preset_without_weights_is_refused_clearly():
    with pytest.raises(ValueError, match="load_weights=False"):
        ConvBertBackbone.from_preset("conv_bert_small_en")


def test_outputs_match_numpy_reference():
    backbone = _tiny()
    rng = np.random.default_rng(0)
    for w in backbone.weights:
        w.assign(rng.normal(scale=0.2, size=w.shape).astype("float32"))
    batch = backbone_batch(seq=12)
    out = backbone(batch)
    emb = backbone.embeddings
    x = (np.asarray(emb.token_embedding.embeddings)[batch["token_ids"]]
         + np.asarray(emb.position_embedding.position_embeddings)[:12]
         + np.asarray(emb.segment_embedding.embeddings)[batch["segment_ids"]])
    x = dense(layer_norm(x, emb.layer_norm, 1e-12), backbone.embeddings_project)
    mask = batch["padding_mask"].astype("float32")
    for layer in backbone.transformer_layers:
        x = convbert_layer(x, layer, mask)
    np.testing.assert_allclose(np.asarray(out["sequence_output"]), x, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(out["pooled_output"]),
                                  np.asarray(out["sequence_output"])[:, 0])


def test_any_length_up_to_max_and_clear_error_beyond():
    backbone = _tiny()
    for seq in (1, 7, 24):
        out = backbone(backbone_batch(seq=seq, pad_tail=0))
        assert out["sequence_output"].shape == (2, seq, 32)
    with pytest.raises(ValueError, match="exceeds max_sequence_length=24"):
        backbone(backbone_batch(seq=25, pad_tail=0))


def test_no_projection_when_embedding_equals_hidden():
    backbone = _tiny(embedding_dim=None)
    assert backbone.embeddings_project is None
    assert backbone.embedding_dim == 32


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hidden_dim": 30}, "hidden_dim"),
        ({"num_heads": 3, "hidden_dim": 24, "num_groups": 1}, "head_ratio"),
        ({"conv_kernel_size": 4}, "conv_kernel_size"),
        ({"num_groups": 3}, "num_groups"),
        ({"num_layers": 0}, "num_layers"),
        ({"vocabulary_size": -5}, "vocabulary_size"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"intermediate_dim": 0}, "intermediate_dim"),
        ({"initializer_range": 0.0}, "initializer_range"),
        ({"initializer_range": "0.02"}, "initializer_range"),
    ],
)
def test_invalid_config_is_rejected_at_construction(overrides, message):
    with pytest.raises(ValueError, match=message):
        _tiny(**overrides)


def test_initializer_range_sets_every_kernel_and_table_and_reaches_the_generator():
    from convbert_tf.tasks import ConvBertElectraPretrainer

    keras.utils.set_random_seed(0)
    wide = ConvBertBackbone(vocabulary_size=2000, num_layers=1, num_heads=4, hidden_dim=64,
                            intermediate_dim=256, initializer_range=0.1)
    default = _tiny()
    assert default.get_config()["initializer_range"] == 0.02
    kernel = wide.transformer_layers[0].intermediate_dense.kernel
    # A truncated normal (cut at 2 std) has 0.88 x its stddev; 16k entries: within 3%.
    assert np.std(np.asarray(kernel)) == pytest.approx(0.088, rel=0.03)
    table = wide.embeddings.token_embedding.embeddings
    assert np.std(np.asarray(table)) == pytest.approx(0.088, rel=0.03)
    # Configs saved before the argument existed load with the released 0.02.
    config = wide.get_config()
    del config["initializer_range"]
    assert ConvBertBackbone.from_config(config).initializer_range == 0.02
    # ELECTRA's generator and heads share the discriminator's scale.
    pretrainer = ConvBertElectraPretrainer(wide)
    assert pretrainer.generator.initializer_range == 0.1
    assert np.std(np.asarray(pretrainer.discriminator_dense.kernel)) == pytest.approx(
        0.088, rel=0.05)


def test_config_and_keras_file_round_trip(tmp_path):
    backbone = _tiny()
    config = backbone.get_config()
    clone = ConvBertBackbone.from_config(config)
    assert clone.get_config() == config
    batch = backbone_batch()
    path = str(tmp_path / "backbone.keras")
    backbone.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, ConvBertBackbone)
    np.testing.assert_array_equal(np.asarray(restored(batch)["sequence_output"]),
                                  np.asarray(backbone(batch)["sequence_output"]))


def test_preset_directory_round_trip(tmp_path):
    backbone = _tiny()
    backbone.save_to_preset(str(tmp_path))
    restored = ConvBertBackbone.from_preset(str(tmp_path))
    batch = backbone_batch()
    np.testing.assert_array_equal(np.asarray(restored(batch)["sequence_output"]),
                                  np.asarray(backbone(batch)["sequence_output"]))


# Measured max |mixed - float32| of sequence_output (tiny 2-layer model, outputs ~3, seeds 0-2):
# bf16 0.021-0.028, fp16 0.0032-0.0057. Bounds at ~2x the largest.
MIXED_PRECISION_ATOL = {"mixed_bfloat16": 0.06, "mixed_float16": 0.012}


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_is_finite_and_close(policy):
    batch = backbone_batch(seq=16)
    reference = _tiny()
    expected = np.asarray(reference(batch)["sequence_output"])
    backbone = _tiny(dtype=policy)
    backbone.set_weights(reference.get_weights())
    out = backbone(batch)["sequence_output"]
    assert keras.backend.standardize_dtype(out.dtype) == policy.split("_")[1]
    out = np.asarray(keras.ops.cast(out, "float32"))
    assert np.isfinite(out).all()
    assert np.abs(out - expected).max() < MIXED_PRECISION_ATOL[policy]
    # Variables stay float32.
    assert {w.dtype for w in backbone.weights} == {"float32"}


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_softmax_and_layer_norm_run_in_float32_under_mixed_precision(policy):
    # The numeric bound above would not notice a 16-bit softmax (its error hides in the bf16
    # noise of the rest), so read the dtypes off the traced graph: per layer one attention
    # softmax, one span-kernel softmax and two LayerNorms, plus the embeddings' LayerNorm.
    backbone = _tiny(dtype=policy)
    layers = TINY["num_layers"]
    assert_float32_normalisations(backbone, backbone_batch(seq=16), softmaxes=2 * layers,
                                  layer_norms=2 * layers + 1)


def test_the_precision_check_catches_a_16_bit_softmax():
    def bf16_softmax(batch):
        return keras.ops.softmax(keras.ops.cast(batch["token_ids"], "bfloat16"))

    found = normalisation_op_dtypes(bf16_softmax, backbone_batch(seq=16))
    assert found["Softmax"] == {"bfloat16": 1}


def test_jit_compiled_predict_matches_eager():
    backbone = _tiny()
    batch = backbone_batch()
    eager = np.asarray(backbone(batch)["sequence_output"])
    backbone.compile(jit_compile=True)
    compiled = backbone.predict(batch, verbose=0)["sequence_output"]
    np.testing.assert_allclose(compiled, eager, atol=1e-5)


@pytest.mark.subprocess
def test_jax_backend_matches_tensorflow(tmp_path):
    backbone = _tiny()
    batch = backbone_batch()
    expected = np.asarray(backbone(batch)["sequence_output"])
    weights = str(tmp_path / "w.weights.h5")
    backbone.save_weights(weights)
    np.savez(tmp_path / "batch.npz", **batch)
    script = f"""
import json, numpy as np
from convbert_tf.models import ConvBertBackbone
config = json.loads({str(__import__("json").dumps(TINY))!r})
backbone = ConvBertBackbone(**config)
backbone.load_weights({weights!r})
batch = dict(np.load({str(tmp_path / "batch.npz")!r}))
np.save({str(tmp_path / "jax.npy")!r}, np.asarray(backbone(batch)["sequence_output"]))
import keras; assert keras.config.backend() == "jax"
"""
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=REPO_ROOT,
                   timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "jax.npy"), expected, atol=1e-5)
