"""ConvBertMaskedLM: the tied head's math (E != D), XLA training on a tiny corpus, GroupBERT."""

import keras
import numpy as np
from scipy.special import erf

from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from convbert_tf.preprocessing import ConvBertMaskedLMPreprocessor, ConvBertTokenizer
from convbert_tf.tasks.masked_lm import ConvBertMaskedLM

CORPUS = ["the cat sat on the mat .", "the dog sat on the log .", "a cat and a dog ."] * 4
WORDS = sorted({w for s in CORPUS for w in s.split()})


def tiny_tokenizer():
    return ConvBertTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])


def test_head_is_tied_and_matches_numpy():
    backbone = ConvBertBackbone(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, embedding_dim=4, conv_kernel_size=3,
                                max_sequence_length=8, dropout=0.0)
    mlm = ConvBertMaskedLM(backbone)
    head = mlm.masked_lm_head
    assert head.token_embedding is backbone.token_embedding
    assert head.layer_norm_epsilon == 1e-12
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(0, 20, (2, 8)).astype("int32"),
         "segment_ids": np.zeros((2, 8), "int32"), "padding_mask": np.ones((2, 8), "int32"),
         "mask_positions": np.array([[1, 4], [2, 7]], "int32")}
    for v in head.weights:  # non-trivial bias / LayerNorm values
        v.assign(rng.normal(size=v.shape).astype("float32") * 0.5 + (1.0 if "gamma" in v.path
                                                                     else 0.0))
    logits = np.asarray(mlm(x))
    seq = np.asarray(backbone({k: x[k] for k in ("token_ids", "segment_ids",
                                                 "padding_mask")})["sequence_output"])
    h = np.take_along_axis(seq, x["mask_positions"][..., None], axis=1)
    dense = head._intermediate_dense
    assert dense.kernel.shape == (8, 4)  # D -> E before tying to the E-wide table
    h = h @ np.asarray(dense.kernel) + np.asarray(dense.bias)
    h = 0.5 * h * (1 + erf(h / np.sqrt(2)))  # exact GELU
    mean, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
    ln = head._intermediate_layer_norm
    h = (h - mean) / np.sqrt(var + 1e-12) * np.asarray(ln.gamma) + np.asarray(ln.beta)
    expected = h @ np.asarray(backbone.token_embedding.embeddings).T + np.asarray(head._bias)
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_mlm_loss_decreases_under_xla():
    tokenizer = tiny_tokenizer()
    preprocessor = ConvBertMaskedLMPreprocessor(tokenizer, sequence_length=12,
                                                mask_selection_rate=0.3)
    backbone = ConvBertBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=1,
                                num_heads=2, hidden_dim=16, intermediate_dim=32, embedding_dim=8,
                                conv_kernel_size=3, max_sequence_length=12, dropout=0.0)
    mlm = ConvBertMaskedLM(backbone, preprocessor=preprocessor)
    mlm.compile(optimizer=keras.optimizers.Adam(1e-2))  # jit_compile=True by default
    assert mlm.jit_compile
    # One step per epoch, with fresh random masks each time: compare averages, not two
    # single noisy steps (compilation dominates the cost, the extra steps are cheap).
    history = mlm.fit(CORPUS, batch_size=12, epochs=40, verbose=0)
    losses = history.history["loss"]
    start, end = np.mean(losses[:3]), np.mean(losses[-5:])
    print(f"MLM loss start {start:.3f} end {end:.3f}")
    assert end < 0.6 * start
    # get_config / from_config round trip.
    clone = ConvBertMaskedLM.from_config(mlm.get_config())
    assert clone.masked_lm_head.token_embedding is clone.backbone.token_embedding


def test_groupbert_gets_the_mlm_task():
    backbone = GroupBertBackbone(vocabulary_size=30, num_layers=1, num_heads=2, hidden_dim=32,
                                 intermediate_dim=64, max_sequence_length=8,
                                 layer_norm_epsilon=1e-3)
    mlm = ConvBertMaskedLM(backbone)
    # The head follows the backbone's epsilon (1e-12 released; 1e-3 here, the TF1 variant).
    assert mlm.masked_lm_head.layer_norm_epsilon == 1e-3
    x = {"token_ids": np.ones((1, 8), "int32"), "segment_ids": np.zeros((1, 8), "int32"),
         "padding_mask": np.ones((1, 8), "int32"), "mask_positions": np.array([[1, 2]], "int32")}
    assert mlm(x).shape == (1, 2, 30)
