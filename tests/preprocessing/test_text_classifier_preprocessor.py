"""ConvBertTextClassifierPreprocessor: reference-exact packing, modes, config."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor


@pytest.fixture(scope="module")
def pre(tokenizer):
    return ConvBertTextClassifierPreprocessor(tokenizer=tokenizer, sequence_length=128)


@pytest.mark.parametrize("length", [128, 32])
def test_pairs_match_reference(tokenizer, expected, length):
    rows = [r for r in expected["pairs"] if r["sequence_length"] == length]
    pre = ConvBertTextClassifierPreprocessor(tokenizer=tokenizer, sequence_length=length)
    out = pre(([r["text_a"] for r in rows], [r["text_b"] for r in rows]))
    np.testing.assert_array_equal(out["token_ids"], [r["token_ids"] for r in rows])
    np.testing.assert_array_equal(out["segment_ids"], [r["segment_ids"] for r in rows])
    np.testing.assert_array_equal(out["padding_mask"], [r["padding_mask"] for r in rows])


def test_single_texts_match_reference_layout(pre, expected):
    rows = expected["single"][:50]
    out = pre([r["text"] for r in rows])
    for row, ids in zip(out["token_ids"].numpy(), (r["ids"] for r in rows)):
        want = ([101] + ids[:126] + [102] + [0] * 128)[:128]
        assert row.tolist() == want


def test_unbatched_batched_tfdata_and_tf_function_agree(pre):
    texts = ["A good film.", "Bad!", "ünïcödé 日本"]
    batched = pre(texts)
    assert batched["token_ids"].shape == (3, 128)
    for i, t in enumerate(texts):
        single = pre(t)
        assert single["token_ids"].shape == (128,)
        for key in batched:
            np.testing.assert_array_equal(single[key], batched[key][i])
    ds = tf.data.Dataset.from_tensor_slices((texts, [1, 0, 1])).batch(2).map(pre)
    got = list(ds)
    np.testing.assert_array_equal(
        np.concatenate([x["token_ids"] for x, _ in got]), batched["token_ids"])
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), [1, 0, 1])
    fn = tf.function(lambda s: pre(s), input_signature=[tf.TensorSpec([None], tf.string)])
    np.testing.assert_array_equal(fn(tf.constant(texts))["token_ids"], batched["token_ids"])


def test_x_y_sample_weight_passthrough(pre):
    x, y = pre(["a", "b"], [1, 0])
    assert set(x) == {"token_ids", "segment_ids", "padding_mask"}
    assert list(np.asarray(y)) == [1, 0]
    x, y, w = pre(["a", "b"], [1, 0], [0.5, 2.0])
    assert list(np.asarray(w)) == [0.5, 2.0]
    x, y = pre((["a"], ["b"]), [1])  # pair + label
    assert x["segment_ids"].numpy().tolist()[0][:5] == [0, 0, 0, 1, 1]
    single_pair = pre(("premise", "hypothesis"))  # one tuple = pair, not (x, y)
    assert single_pair["segment_ids"].numpy()[:5].tolist() == [0, 0, 0, 1, 1]
    ds = tf.data.Dataset.from_tensor_slices(((["p1", "p2"], ["h1", "h2"]), [0, 1])).map(pre)
    x, y = next(iter(ds))
    assert x["token_ids"].shape == (128,) and int(y) == 0


def test_fixed_padding_regardless_of_batch(pre):
    short = pre(["hi"])["token_ids"]
    mixed = pre(["hi", "a much longer sentence " * 5])["token_ids"]
    np.testing.assert_array_equal(short[0], mixed[0])


def test_config_round_trip_and_sequence_length_setter(tokenizer):
    pre = ConvBertTextClassifierPreprocessor(tokenizer=tokenizer, sequence_length=16)
    clone = keras.layers.deserialize(keras.layers.serialize(pre))
    assert isinstance(clone, ConvBertTextClassifierPreprocessor)
    assert clone.sequence_length == 16
    np.testing.assert_array_equal(clone("hello")["token_ids"], pre("hello")["token_ids"])
    pre.sequence_length = 8
    assert pre("hello")["token_ids"].shape == (8,)
    with pytest.raises(ValueError, match="sequence_length"):
        pre.sequence_length = 2
    assert ConvBertTextClassifierPreprocessor(tokenizer=tokenizer).sequence_length == 128
