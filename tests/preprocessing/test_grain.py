"""keras-hub's contract inside Grain pipelines: NumPy out, batchable, same values as tf.data."""

import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import (
    ConvBertMaskedLMPreprocessor,
    ConvBertTextClassifierPreprocessor,
    ConvBertTokenizer,
)

grain = pytest.importorskip("grain")

TEXTS = ["a great film", "dull and slow", "the quick brown fox", "it rains"]


@pytest.fixture(scope="module")
def tokenizer():
    return ConvBertTokenizer()


def test_classifier_preprocessor_batches_in_grain_like_tf_data(tokenizer):
    pre = ConvBertTextClassifierPreprocessor(tokenizer, sequence_length=8)
    batches = list(grain.MapDataset.source(TEXTS).map(pre).batch(2))
    assert len(batches) == 2
    first = batches[0]
    assert set(first) == {"token_ids", "segment_ids", "padding_mask"}
    for value in first.values():
        assert isinstance(value, np.ndarray) and value.shape == (2, 8)
    reference = next(iter(tf.data.Dataset.from_tensor_slices(TEXTS).batch(2).map(pre)))
    for key, value in reference.items():
        np.testing.assert_array_equal(first[key], value.numpy())


def test_labelled_examples_and_pairs_in_grain(tokenizer):
    pre = ConvBertTextClassifierPreprocessor(tokenizer, sequence_length=8)
    examples = [(text, label) for text, label in zip(TEXTS, [1, 0, 1, 0])]
    x, y = next(iter(grain.MapDataset.source(examples).map(pre).batch(4)))
    assert x["token_ids"].shape == (4, 8)
    np.testing.assert_array_equal(y, [1, 0, 1, 0])
    pairs = [("a premise", "a hypothesis"), ("one", "two")]
    x = next(iter(grain.MapDataset.source(pairs).map(pre).batch(2)))
    assert x["segment_ids"].shape == (2, 8) and x["segment_ids"].max() == 1


def test_tokenizer_output_is_numpy_in_grain(tokenizer):
    ids = list(grain.MapDataset.source(["hello world", "good film"]).map(tokenizer))
    assert all(isinstance(row, np.ndarray) for row in ids)
    np.testing.assert_array_equal(ids[0], tokenizer("hello world").numpy())
    # Same-length rows batch.
    batch = next(iter(grain.MapDataset.source(["hello world", "good film"]).map(tokenizer)
                      .batch(2)))
    assert batch.shape == (2, 2)


def test_masked_lm_preprocessor_in_grain(tokenizer):
    pre = ConvBertMaskedLMPreprocessor(tokenizer, sequence_length=8, mask_selection_length=3)
    x, y, weight = next(iter(grain.MapDataset.source(TEXTS).map(pre).batch(4)))
    assert x["mask_positions"].shape == (4, 3) and isinstance(y, np.ndarray)
    assert weight.dtype == np.float32 and x["token_ids"].dtype == np.int32
