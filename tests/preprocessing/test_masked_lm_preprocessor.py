"""ConvBertMaskedLMPreprocessor: masking statistics, static shapes, XLA feed."""

import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import ConvBertMaskedLMPreprocessor

TEXT = "the quick brown fox jumps over the lazy dog " * 20


@pytest.fixture(scope="module")
def mlm(tokenizer):
    return ConvBertMaskedLMPreprocessor(tokenizer=tokenizer, sequence_length=64)


def test_outputs_and_static_shapes(mlm):
    assert mlm.mask_selection_length == 10  # ceil(0.15 * 64)
    ds = tf.data.Dataset.from_tensor_slices([TEXT, "short one"] * 4).batch(4).map(mlm)
    x, y, w = ds.element_spec
    assert x["token_ids"].shape.as_list() == [None, 64]
    assert x["mask_positions"].shape.as_list() == [None, 10]
    assert y.shape.as_list() == [None, 10] and w.shape.as_list() == [None, 10]
    assert {k: v.dtype for k, v in x.items()} == {
        "token_ids": tf.int32, "segment_ids": tf.int32,
        "padding_mask": tf.int32, "mask_positions": tf.int32}


def test_masking_statistics_and_specials_untouched(mlm, tokenizer):
    tf.random.set_seed(7)
    clean = mlm.pack if hasattr(mlm, "pack") else None
    del clean
    x, y, w = mlm([TEXT] * 400)
    ids, pos, y, w = (np.asarray(a) for a in (x["token_ids"], x["mask_positions"], y, w))
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
    orig = np.asarray(ConvBertTextClassifierPreprocessor(tokenizer, 64)([TEXT] * 400)["token_ids"])
    eligible = 62
    selected = w.sum(axis=1)
    assert np.all(selected == np.ceil(0.15 * eligible))  # 10 of the 62 real tokens
    rows = np.repeat(np.arange(400)[:, None], 10, axis=1)
    sel = w > 0
    assert np.all(orig[rows[sel], pos[sel]] == y[sel])  # targets are the originals
    assert not np.isin(pos[sel], [0, 63]).any()  # never [CLS] / final [SEP]
    new = ids[rows[sel], pos[sel]]
    frac_mask = np.mean(new == tokenizer.mask_token_id)
    frac_keep = np.mean(new == y[sel])
    assert 0.75 < frac_mask < 0.85 and 0.07 < frac_keep < 0.14
    untouched = np.ones_like(ids, bool)
    untouched[rows[sel], pos[sel]] = False
    np.testing.assert_array_equal(ids[untouched], orig[untouched])


def test_padding_never_selected(mlm):
    x, y, w = mlm(["one two"] * 50)
    pos, w = np.asarray(x["mask_positions"]), np.asarray(w)
    assert np.all(w.sum(axis=1) == 1)  # ceil(0.15 * 2)
    assert np.all(pos[w > 0] >= 1) and np.all(pos[w > 0] <= 2)


def test_feeds_xla_compiled_function(mlm):
    ds = tf.data.Dataset.from_tensor_slices([TEXT, "x"] * 2).batch(2).map(mlm)

    @tf.function(jit_compile=True)
    def step(x, y, w):
        picked = tf.gather(x["token_ids"], x["mask_positions"], batch_dims=1)
        return tf.reduce_sum(tf.cast(picked, tf.float32) * w) + tf.reduce_sum(
            tf.cast(y, tf.float32))

    for x, y, w in ds:
        assert np.isfinite(step(x, y, w).numpy())


def test_arguments_validated(tokenizer):
    with pytest.raises(ValueError, match="sequence_length"):
        ConvBertMaskedLMPreprocessor(tokenizer, sequence_length=2)
    with pytest.raises(ValueError, match="mask_selection_rate"):
        ConvBertMaskedLMPreprocessor(tokenizer, mask_selection_rate=1.5)
    with pytest.raises(ValueError, match="mask_token_rate"):
        ConvBertMaskedLMPreprocessor(tokenizer, mask_token_rate=0.9, random_token_rate=0.2)
    pre = ConvBertMaskedLMPreprocessor(tokenizer, sequence_length=128)
    assert pre.mask_selection_length == 20
    clone = ConvBertMaskedLMPreprocessor.from_config(pre.get_config())
    assert (clone.sequence_length, clone.mask_selection_length) == (128, 20)
