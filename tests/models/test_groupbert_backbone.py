import keras
import numpy as np
import pytest

from convbert_tf.models import GroupBertBackbone
from tests.conftest import backbone_batch
from tests.models.precision_checks import assert_float32_normalisations
from tests.numpy_reference import dense, groupbert_layer, layer_norm

TINY = {
    "vocabulary_size": 100,
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 32,
    "intermediate_dim": 128,
    "dropout": 0.0,
    "max_sequence_length": 24,
}


def test_outputs_match_numpy_reference():
    backbone = GroupBertBackbone(**TINY)
    rng = np.random.default_rng(0)
    for w in backbone.weights:
        w.assign(rng.normal(scale=0.2, size=w.shape).astype("float32"))
    batch = backbone_batch(seq=10)
    out = backbone(batch)
    emb = backbone.embeddings
    x = (np.asarray(emb.token_embedding.embeddings)[batch["token_ids"]]
         + np.asarray(emb.position_embedding.position_embeddings)[:10]
         + np.asarray(emb.segment_embedding.embeddings)[batch["segment_ids"]])
    x = layer_norm(x, emb.layer_norm, 1e-12)
    mask = batch["padding_mask"].astype("float32")
    for layer in backbone.transformer_layers:
        x = groupbert_layer(x, layer, mask)
    x = layer_norm(x, backbone.final_layer_norm, 1e-12)
    np.testing.assert_allclose(np.asarray(out["sequence_output"]), x, atol=1e-4)
    np.testing.assert_allclose(np.asarray(out["pooled_output"]),
                               np.tanh(dense(x[:, 0], backbone.pooled_dense)), atol=1e-5)


def test_base_preset_size_matches_spec():
    backbone = GroupBertBackbone.from_preset("group_bert_base_en", load_weights=False)
    layers = sum(int(np.prod(w.shape)) for lyr in backbone.transformer_layers
                 for w in lyr.weights)
    # Spec's per-module counts (conv 1,861,632 with its bias, FFNs 2 x 3,545,088, attention
    # 2,363,904) x 12 layers.
    assert layers == 12 * (1_861_632 + 2 * 3_545_088 + 2_363_904) == 135_788_544
    # Spec's 160.8M total includes the tied MLM head: dense D->D, LayerNorm, output bias.
    mlm_head = 768 * 768 + 768 + 2 * 768 + 30522
    assert round((backbone.count_params() + mlm_head) / 1e6, 1) == 160.8
    metadata = GroupBertBackbone.presets["group_bert_base_en"]["metadata"]
    assert metadata["params"] == backbone.count_params()
    assert metadata["hf_repo"] == "Graphcore/groupbert-base-uncased"


@pytest.mark.parametrize("name, layers, width", [("group_bert_tiny_en", 2, 128),
                                                  ("group_bert_mini_en", 4, 256)])
def test_small_presets_build(name, layers, width):
    backbone = GroupBertBackbone.from_preset(name, load_weights=False)
    out = backbone(backbone_batch(seq=8, vocab=30522))
    assert len(backbone.transformer_layers) == layers
    assert out["sequence_output"].shape == (2, 8, width)


# Measured max |mixed - float32| of sequence_output (tiny 2-layer model, outputs ~3, seeds 0-2):
# bf16 0.022-0.028, fp16 0.0027-0.0038. Bounds at ~2x the largest.
MIXED_PRECISION_ATOL = {"mixed_bfloat16": 0.06, "mixed_float16": 0.008}
LAYER_NORMS_PER_LAYER = 5


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_matches_float32(policy):
    batch = backbone_batch(seq=16)
    reference = GroupBertBackbone(**TINY)
    expected = np.asarray(reference(batch)["sequence_output"])
    backbone = GroupBertBackbone(**TINY, dtype=policy)
    backbone.set_weights(reference.get_weights())
    out = backbone(batch)["sequence_output"]
    assert keras.backend.standardize_dtype(out.dtype) == policy.split("_")[1]
    out = np.asarray(keras.ops.cast(out, "float32"))
    assert np.isfinite(out).all()
    assert np.abs(out - expected).max() < MIXED_PRECISION_ATOL[policy]
    # Per layer: one attention softmax and 5 LayerNorms (4 pre-norms of the conv, attention
    # and two FFN modules, one inside the conv module), plus the embeddings' and the final
    # LayerNorm (counted from the traced graph), all computed in float32.
    layers = TINY["num_layers"]
    assert_float32_normalisations(backbone, batch, softmaxes=layers,
                                  layer_norms=LAYER_NORMS_PER_LAYER * layers + 2)


@pytest.mark.parametrize(
    "overrides, message",
    [({"hidden_dim": 40}, "group_size"), ({"num_heads": 3}, "num_heads"),
     ({"num_layers": 0}, "num_layers"), ({"initializer_range": -0.1}, "initializer_range")],
)
def test_invalid_config(overrides, message):
    with pytest.raises(ValueError, match=message):
        GroupBertBackbone(**{**TINY, **overrides})


def test_keras_file_round_trip(tmp_path):
    backbone = GroupBertBackbone(**TINY)
    path = str(tmp_path / "g.keras")
    backbone.save(path)
    restored = keras.saving.load_model(path)
    batch = backbone_batch()
    np.testing.assert_array_equal(np.asarray(restored(batch)["pooled_output"]),
                                  np.asarray(backbone(batch)["pooled_output"]))


def test_embedding_dim_adds_projection_and_round_trips():
    backbone = GroupBertBackbone(**TINY, embedding_dim=16)
    assert backbone.embeddings.embedding_dim == 16
    assert backbone.embeddings_project.units == 32
    assert (backbone.embedding_dim, backbone.hidden_dim, backbone.num_heads,
            backbone.num_layers) == (16, 32, 2, 2)
    restored = GroupBertBackbone.from_config(backbone.get_config())
    assert restored.get_config() == backbone.get_config()
    restored.set_weights(backbone.get_weights())
    batch = backbone_batch()
    np.testing.assert_array_equal(np.asarray(restored(batch)["sequence_output"]),
                                  np.asarray(backbone(batch)["sequence_output"]))
    assert GroupBertBackbone(**TINY).embeddings_project is None


def test_shared_embeddings_are_the_same_variables():
    discriminator = GroupBertBackbone(**TINY, embedding_dim=16)
    generator = GroupBertBackbone(**{**TINY, "hidden_dim": 16, "intermediate_dim": 64},
                                  embeddings=discriminator.embeddings)
    assert generator.embeddings is discriminator.embeddings
    assert generator.embeddings_project is None
    shared = {id(w) for w in discriminator.embeddings.weights}
    assert shared <= {id(w) for w in generator.weights}
    assert "embeddings" not in generator.get_config()


@pytest.mark.parametrize("embeddings, error, message", [
    ("not a layer", TypeError, "BertEmbedding"),
    (None, ValueError, "embedding_dim=32 \\(backbone: 16\\)"),
])
def test_shared_embeddings_are_validated(embeddings, error, message):
    from convbert_tf.layers import BertEmbedding

    if embeddings is None:
        embeddings = BertEmbedding(100, 32, max_sequence_length=24)
    with pytest.raises(error, match=message):
        GroupBertBackbone(**TINY, embedding_dim=16, embeddings=embeddings)


def test_initializer_range_sets_the_kernels_and_round_trips():
    backbone = GroupBertBackbone(**{**TINY, "initializer_range": 0.3})
    assert GroupBertBackbone.from_config(backbone.get_config()).initializer_range == 0.3
    table = np.asarray(backbone.embeddings.token_embedding.embeddings)
    # Truncated at 2 std: 0.88 x 0.3; thousands of entries, within 5%.
    assert np.std(table) == pytest.approx(0.264, rel=0.05)
    assert np.std(np.asarray(backbone.pooled_dense.kernel)) > 0.15


def test_configs_saved_before_the_conv_bias_load_as_they_were():
    config = GroupBertBackbone(**TINY).get_config()
    for key in ("use_conv_bias", "layer_norm_epsilon", "attention_dropout", "embedding_dim"):
        del config[key]
    old = GroupBertBackbone.from_config(config)
    assert old.use_conv_bias is False and old.layer_norm_epsilon == 1e-3
    assert old.transformer_layers[0].conv.conv_bias is None
    new = GroupBertBackbone.from_config(GroupBertBackbone(**TINY).get_config())
    assert new.use_conv_bias is True and new.layer_norm_epsilon == 1e-12
