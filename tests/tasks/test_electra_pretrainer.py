"""ELECTRA pretrainer: RTD labels by hand, shared embeddings, no gradient through sampling, XLA."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.models import ConvBertBackbone
from convbert_tf.optimizers import Lamb
from convbert_tf.tasks.electra_pretrainer import (
    ConvBertElectraPretrainer,
    generator_config,
    original_token_ids,
    pretraining_optimizer,
    replaced_token_labels,
)

VOCAB, SEQ, MASKS = 40, 12, 3


def tiny_discriminator(dropout=0.0):
    return ConvBertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=4, hidden_dim=16,
                            intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                            max_sequence_length=SEQ, dropout=dropout)


def masked_batch(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    original = rng.integers(5, VOCAB, (batch, SEQ)).astype("int32")
    original[:, 0] = 1
    padding = np.ones_like(original)
    padding[0, -3:] = 0
    original[0, -3:] = 0
    positions = np.tile(np.array([2, 5, 0], "int32"), (batch, 1))  # third slot is padding
    weights = np.tile(np.array([1.0, 1.0, 0.0], "float32"), (batch, 1))
    rows = np.arange(batch)[:, None]
    y = original[rows, positions] * (weights > 0)
    masked = original.copy()
    masked[:, 2] = masked[:, 5] = 3  # [MASK]
    x = {"token_ids": masked, "segment_ids": np.zeros_like(masked), "padding_mask": padding,
         "mask_positions": positions}
    return x, y.astype("int32"), weights, original


@pytest.fixture(scope="module")
def pretrainer():
    keras.utils.set_random_seed(0)
    return ConvBertElectraPretrainer(tiny_discriminator(), seed=3)


def test_rtd_labels_hand_computed():
    token_ids = np.array([[101, 103, 7, 103, 9, 102, 0, 0]], "int32")  # masked input
    positions = np.array([[1, 3, 0]], "int32")  # 0 = padding of mask_positions
    mask_ids = np.array([[5, 8, 0]], "int32")  # originals at 1 and 3
    padding = np.array([[1, 1, 1, 1, 1, 1, 0, 0]], "int32")
    original = np.asarray(original_token_ids(token_ids, positions, mask_ids))
    np.testing.assert_array_equal(original, [[101, 5, 7, 8, 9, 102, 0, 0]])
    # The generator sampled 5 at position 1 (the original: NOT replaced) and 4 at position 3.
    discriminator_ids = np.array([[101, 5, 7, 4, 9, 102, 0, 0]], "int32")
    labels = np.asarray(replaced_token_labels(original, discriminator_ids, padding))
    np.testing.assert_array_equal(labels, [[0, 0, 0, 1, 0, 0, 0, 0]])
    # Padding is never "replaced", even where ids differ.
    labels = replaced_token_labels(original, np.where(padding, discriminator_ids, 77), padding)
    np.testing.assert_array_equal(np.asarray(labels), [[0, 0, 0, 1, 0, 0, 0, 0]])


def test_forward_replaces_exactly_the_masked_positions(pretrainer):
    x, y, _, original = masked_batch()
    out = pretrainer(x)
    disc = np.asarray(out["discriminator_token_ids"])
    sampled = np.asarray(out["sampled_token_ids"])
    untouched = np.ones(SEQ, bool)
    untouched[[2, 5]] = False
    np.testing.assert_array_equal(disc[:, untouched], x["token_ids"][:, untouched])
    np.testing.assert_array_equal(disc[:, 2], sampled[:, 0])
    np.testing.assert_array_equal(disc[:, 5], sampled[:, 1])
    assert disc[0, 0] == 1  # the padded mask slot (position 0) did not overwrite [CLS]
    labels = np.asarray(replaced_token_labels(original_token_ids(x["token_ids"],
                        x["mask_positions"], y), disc, x["padding_mask"]))
    np.testing.assert_array_equal(labels, (disc != original) & (x["padding_mask"] > 0))
    assert out["mlm_logits"].shape == (4, MASKS, VOCAB)
    assert out["rtd_logits"].shape == (4, SEQ)


def test_embeddings_are_the_same_variables(pretrainer):
    gen, disc = pretrainer.generator, pretrainer.discriminator
    assert gen.embeddings is disc.embeddings
    assert gen.token_embedding.embeddings is disc.token_embedding.embeddings
    disc_ids = {id(v) for v in disc.embeddings.weights}
    assert disc_ids == {id(v) for v in gen.embeddings.weights}
    assert len(disc_ids) == 5  # word, position, token type, LayerNorm gamma and beta
    # ...counted once in the pretrainer, while each keeps its own projection.
    all_ids = [id(v) for v in pretrainer.weights]
    assert len(all_ids) == len(set(all_ids))
    assert gen.embeddings_project is not None and disc.embeddings_project is not None
    assert gen.embeddings_project is not disc.embeddings_project
    assert gen.embeddings_project.kernel.shape == (8, gen.hidden_dim)
    # The generator head is tied to the shared table.
    assert pretrainer.generator_head.token_embedding is disc.token_embedding


def test_no_gradient_through_sampling(pretrainer):
    x, y, weights, _ = masked_batch()
    generator_only = [v for v in pretrainer.trainable_weights
                      if id(v) not in {id(w) for w in pretrainer.discriminator.weights}
                      and id(v) not in {id(w) for w in pretrainer.discriminator_dense.weights}
                      and id(v) not in {id(w) for w in pretrainer.discriminator_logits.weights}]
    assert len(generator_only) > 10
    with tf.GradientTape(persistent=True) as tape:
        out = pretrainer(x, training=True)
        _, rtd_loss, *_ = pretrainer._loss_terms(x, y, out, weights)
        mlm_loss, *_ = pretrainer._loss_terms(x, y, out, weights)
    rtd_grads = tape.gradient(rtd_loss, generator_only)
    for var, grad in zip(generator_only, rtd_grads):
        assert grad is None or not np.any(np.asarray(grad)), var.path
    # The MLM loss does reach the generator, and the RTD loss reaches the shared table.
    assert any(g is not None and np.any(np.asarray(g))
               for g in tape.gradient(mlm_loss, generator_only))
    table_grad = tape.gradient(rtd_loss, pretrainer.discriminator.token_embedding.embeddings)
    assert table_grad is not None and np.any(np.asarray(tf.convert_to_tensor(table_grad)))


def test_trains_under_xla_and_round_trips(pretrainer, tmp_path):
    x, y, weights, _ = masked_batch(batch=8)
    pretrainer.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=True)
    history = pretrainer.fit(x, y, sample_weight=weights, batch_size=8, epochs=8, verbose=0)
    logs = history.history
    assert logs["loss"][-1] < logs["loss"][0]
    assert logs["mlm_loss"][-1] < logs["mlm_loss"][0]
    for name in ("rtd_loss", "generator_accuracy", "discriminator_accuracy",
                 "discriminator_precision", "discriminator_recall"):
        assert np.isfinite(logs[name]).all(), name
    # Loss = MLM + 50 * RTD.
    np.testing.assert_allclose(logs["loss"][-1], logs["mlm_loss"][-1] + 50 * logs["rtd_loss"][-1],
                               rtol=1e-4)
    # get_config / from_config rebuilds the sharing; saved weights reload exactly.
    clone = ConvBertElectraPretrainer.from_config(pretrainer.get_config())
    assert clone.generator.embeddings is clone.discriminator.embeddings
    assert clone.generator.hidden_dim == pretrainer.generator.hidden_dim
    path = str(tmp_path / "p.weights.h5")
    pretrainer.save_weights(path)
    clone.load_weights(path)
    for a, b in zip(pretrainer.weights, clone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # The discriminator is an ordinary backbone preset.
    pretrainer.discriminator.save_to_preset(str(tmp_path / "preset"))
    loaded = ConvBertBackbone.from_preset(str(tmp_path / "preset"))
    np.testing.assert_array_equal(np.asarray(loaded.token_embedding.embeddings),
                                  np.asarray(pretrainer.discriminator.token_embedding.embeddings))


def test_generator_sizes_follow_the_spec():
    small = ConvBertBackbone.from_preset("conv_bert_small_en", load_weights=False)
    config = generator_config(small)
    assert (config["hidden_dim"], config["num_heads"], config["intermediate_dim"]) == (64, 1, 256)
    assert config["head_ratio"] == 1 and config["embedding_dim"] == 128
    assert config["num_layers"] == 12
    base_like = ConvBertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=12,
                                 hidden_dim=768, intermediate_dim=3072, max_sequence_length=8)
    config = generator_config(base_like)
    assert (config["hidden_dim"], config["num_heads"], config["intermediate_dim"]) == (256, 4, 1024)
    assert config["embedding_dim"] == 768 and config["head_ratio"] == 2


def test_bad_arguments():
    disc = tiny_discriminator()
    other = tiny_discriminator()
    with pytest.raises(ValueError, match="share the discriminator's embeddings"):
        ConvBertElectraPretrainer(disc, generator=other)
    with pytest.raises(ValueError, match="embedding_dim"):
        ConvBertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8,
                         intermediate_dim=16, embedding_dim=4, max_sequence_length=SEQ,
                         embeddings=disc.embeddings)
    with pytest.raises(ValueError, match="generator_fraction"):
        ConvBertElectraPretrainer(disc, generator_fraction=0.0)


def test_sample_categorical_follows_the_softmax():
    from scipy.stats import chisquare

    from convbert_tf.tasks.electra_pretrainer import sample_categorical

    rng = np.random.default_rng(0)
    # 1,000 classes (4 blocks of 256, the last one padded) with a wide spread of masses.
    logits = (2 * rng.normal(size=1000)).astype("float32")
    draws = keras.ops.convert_to_numpy(
        sample_categorical(np.tile(logits, (20_000, 1)), keras.random.SeedGenerator(0)))
    assert draws.min() >= 0 and draws.max() < 1000
    probabilities = np.exp(logits - logits.max()).astype("float64")
    counts = np.bincount(draws, minlength=1000)
    expected = probabilities / probabilities.sum() * counts.sum()
    # Measured p = 0.107 with this seed; a wrong block or offset rule gives p ~ 0.
    assert chisquare(counts, expected).pvalue > 1e-3


def test_sample_categorical_never_picks_zero_mass():
    from convbert_tf.tasks.electra_pretrainer import sample_categorical

    logits = np.full((500, 300), -np.inf, "float32")
    logits[:, [0, 257, 299]] = 0.0   # first entry, inside the padded last block, last entry
    draws = keras.ops.convert_to_numpy(sample_categorical(logits, keras.random.SeedGenerator(1)))
    assert set(np.unique(draws)) == {0, 257, 299}


def test_tiny_generators_keep_64_channels():
    # 4 heads of 32: a quarter would be one 32-wide head, which measured no better than unigram.
    disc = ConvBertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=4, hidden_dim=128,
                            intermediate_dim=256, max_sequence_length=8)
    config = generator_config(disc)
    assert (config["hidden_dim"], config["num_heads"], config["head_ratio"]) == (64, 2, 2)
    assert generator_config(disc, fraction=1.0)["hidden_dim"] == 128


def test_groupbert_discriminator_pretrains_with_a_groupbert_generator():
    from convbert_tf.models import GroupBertBackbone

    disc = GroupBertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=4, hidden_dim=64,
                             intermediate_dim=128, num_groups=2, conv_group_size=16,
                             max_sequence_length=SEQ)
    pretrainer = ConvBertElectraPretrainer(disc, seed=0)
    assert isinstance(pretrainer.generator, GroupBertBackbone)
    assert pretrainer.generator.embeddings is disc.embeddings
    assert pretrainer.generator.hidden_dim == 64 and pretrainer.generator.num_heads == 4
    pretrainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    x, y, w, _ = masked_batch(batch=4)
    history = pretrainer.fit(x, y, sample_weight=w, batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    clone = ConvBertElectraPretrainer.from_config(pretrainer.get_config())
    assert isinstance(clone.generator, GroupBertBackbone)
    assert clone.generator.embeddings is clone.backbone.embeddings


def test_pretraining_optimizer_lamb_and_adamw():
    # LAMB (the small-budget recipe) and AdamW (the released one) share the schedule and the
    # no-decay exclusions; the LAMB step of a variable is a fixed share of its own norm.
    for name, cls in (("lamb", Lamb), ("adamw", keras.optimizers.AdamW)):
        optimizer = pretraining_optimizer(1e-2, num_train_steps=100, warmup_steps=10,
                                          optimizer=name)
        assert type(optimizer) is cls
        assert float(optimizer.learning_rate) == 0.0  # step 0 of the warmup
        assert optimizer.epsilon == 1e-6
    optimizer = pretraining_optimizer(1e-2, optimizer="lamb")
    kernel = keras.Variable(np.full((4, 4), 0.02, "float32"))
    optimizer.apply_gradients([(np.ones((4, 4), "float32"), kernel)])
    step = np.linalg.norm(0.02 - kernel.numpy())
    # ||w|| = 0.08: one LAMB step moves it by lr * ||w|| (+ decay), not by lr per entry.
    np.testing.assert_allclose(step, 1e-2 * 0.08 * (1 + 0.01), rtol=1e-3)
    # A zero bias is exempt from the trust ratio (else it would never leave zero): Adam step.
    bias = keras.Variable(np.zeros(4, "float32"), name="bias")
    pretraining_optimizer(1e-2, optimizer="lamb").apply_gradients([(np.ones(4, "float32"), bias)])
    np.testing.assert_allclose(bias.numpy(), -1e-2, rtol=1e-3)
    with pytest.raises(ValueError, match="`optimizer` must be \"adamw\" or \"lamb\""):
        pretraining_optimizer(optimizer="sgd")
