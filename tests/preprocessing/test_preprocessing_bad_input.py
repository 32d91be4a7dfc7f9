"""Bad input never kills a batch; misuse fails with errors naming the argument."""

import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor


@pytest.fixture(scope="module")
def pre(tokenizer):
    return ConvBertTextClassifierPreprocessor(tokenizer=tokenizer, sequence_length=16)


def test_empty_and_whitespace_only(pre):
    out = pre(["", "   \t\n\u3000 "])
    np.testing.assert_array_equal(out["token_ids"][:, :3], [[101, 102, 0], [101, 102, 0]])
    np.testing.assert_array_equal(out["padding_mask"].numpy().sum(axis=1), [2, 2])


def test_one_megabyte_string(pre, tokenizer):
    text = ("lorem ipsum dolor sit amet " * 40000)[: 1 << 20]
    out = pre([text, "short"])
    assert out["token_ids"].shape == (2, 16)
    assert out["padding_mask"].numpy()[0].sum() == 16
    assert tokenizer(text).shape[0] > 150_000


def test_invalid_utf8_maps_to_unk(pre, tokenizer):
    ids = tokenizer.tokenize(tf.constant([b"good \xff\xfe bad", b"\xc3", b"fine"])).to_list()
    assert ids == [[2204, 100, 2919], [100], [2986]]
    ds = tf.data.Dataset.from_tensor_slices([b"ok \x80", b"ok"]).batch(2).map(pre)
    batch = next(iter(ds))
    assert batch["token_ids"][0, :4].numpy().tolist() == [101, 7929, 100, 102]


def test_zero_texts(pre):
    out = pre(tf.zeros([0], tf.string))
    assert out["token_ids"].shape == (0, 16)
    assert pre([])["token_ids"].shape == (0, 16)
    pairs = pre((tf.zeros([0], tf.string), tf.zeros([0], tf.string)))
    assert pairs["segment_ids"].shape == (0, 16)


@pytest.mark.parametrize("bad", [3, 1.5, [1, 2], tf.constant([1, 2]), None, {"a": "b"}])
def test_non_string_inputs(pre, bad):
    with pytest.raises((TypeError, ValueError), match="`x"):
        pre(bad)


def test_non_string_second_segment_is_named(pre):
    with pytest.raises(TypeError, match="text_b"):
        pre(x=(tf.constant(["a"]), tf.constant([3])))
    # A one-tuple (texts, labels) stays keras-hub's (x, y) convention.
    x, y = pre((["a"], tf.constant([3])))
    assert x["token_ids"].shape == (1, 16) and int(y[0]) == 3


def test_mismatched_pair_batch_sizes(pre):
    with pytest.raises(ValueError, match="same batch size"):
        pre((["a", "b"], ["c"]))
    # Unknown batch sizes (exported graphs) are checked when the graph runs.
    spec = tf.TensorSpec([None], tf.string)
    fn = tf.function(lambda a, b: pre((a, b)), input_signature=[spec, spec])
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        fn(tf.constant(["a", "b"]), tf.constant(["c"]))


def test_bad_rank_and_tuple_size(pre):
    with pytest.raises(ValueError, match="`x`"):
        pre(tf.constant([["a"]]))
    with pytest.raises(ValueError, match="tuple"):
        pre(x=("a", "b", "c"))


@pytest.mark.parametrize("length", [2, 0, -5, 3.5, True, None])
def test_sequence_length_too_small(tokenizer, length):
    with pytest.raises(ValueError, match="sequence_length"):
        ConvBertTextClassifierPreprocessor(tokenizer=tokenizer, sequence_length=length)
