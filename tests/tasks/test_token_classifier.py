"""Token classification: exact first-piece label alignment, and the model's shapes."""

import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone
from convbert_tf.preprocessing import ConvBertTokenizer
from convbert_tf.preprocessing.token_classifier_preprocessor import (
    ConvBertTokenClassifierPreprocessor,
)
from convbert_tf.tasks.token_classifier import ConvBertTokenClassifier


@pytest.fixture(scope="module")
def preprocessor():
    return ConvBertTokenClassifierPreprocessor(ConvBertTokenizer(), sequence_length=10)


def test_labels_go_to_first_pieces_exactly(preprocessor):
    words = [["John", "Zürichberg", "lives"], ["東京", "x"], ["a", "b", "c", "d", "e", "f", "g",
                                                              "h", "i", "j"]]
    labels = [[1, 2, 0], [3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 1, 2]]
    x, y, w = preprocessor(words, labels)
    vocab = preprocessor.tokenizer.vocabulary
    pieces = [[vocab[i] for i in row] for row in x["token_ids"].numpy()]
    assert pieces[0][:6] == ["[CLS]", "john", "zurich", "##berg", "lives", "[SEP]"]
    np.testing.assert_array_equal(y.numpy()[0], [0, 1, 2, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(w.numpy()[0], [0, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    # "東京" is one input word of two pieces: only 東 carries its label.
    assert pieces[1][:5] == ["[CLS]", "東", "京", "x", "[SEP]"]
    np.testing.assert_array_equal(y.numpy()[1][:5], [0, 3, 0, 4, 0])
    np.testing.assert_array_equal(w.numpy()[1][:5], [0, 1, 0, 1, 0])
    # Truncated to 8 pieces: words 9 and 10 are cut, [SEP] is last.
    assert pieces[2][-1] == "[SEP]"
    np.testing.assert_array_equal(y.numpy()[2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0])
    np.testing.assert_array_equal(w.numpy()[2], [0] + [1] * 8 + [0])


def test_label_count_must_match(preprocessor):
    with pytest.raises(Exception, match="one label"):
        preprocessor([["a", "b"]], [[1]])


def test_model_outputs_per_token_logits(preprocessor):
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                                intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                                max_sequence_length=10)
    tagger = ConvBertTokenClassifier(backbone, num_labels=9, preprocessor=preprocessor)
    x, _, _ = preprocessor([["John", "lives"]], [[1, 0]])
    assert tagger(x).shape == (1, 10, 9)
    clone = ConvBertTokenClassifier.from_config(tagger.get_config())
    assert clone.num_labels == 9


def test_keras_file_round_trip_keeps_weights_and_preprocessor(preprocessor, tmp_path):
    import keras

    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                                intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                                max_sequence_length=10)
    tagger = ConvBertTokenClassifier(backbone, num_labels=5, preprocessor=preprocessor,
                                     dropout=0.2)
    x, _, _ = preprocessor([["John", "lives", "here"]], [[1, 0, 0]])
    path = str(tmp_path / "tagger.keras")
    tagger.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is ConvBertTokenClassifier
    assert restored.num_labels == 5 and restored.dropout == 0.2
    assert restored.preprocessor.sequence_length == preprocessor.sequence_length
    np.testing.assert_array_equal(np.asarray(restored(x)), np.asarray(tagger(x)))
