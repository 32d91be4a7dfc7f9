"""Extractive QA: windows, offsets back to the exact context text (accents, CJK), null answers."""

import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone
from convbert_tf.preprocessing.question_answerer_preprocessor import (
    ConvBertQuestionAnswererPreprocessor,
    load_squad,
)
from convbert_tf.tasks.question_answerer import ConvBertQuestionAnswerer

CONTEXTS = [
    "Café Müller lives in Zürich since 1990 and likes trains very much.",
    "東京は日本の首都です。",
    "Nobody knows anything here.",
]
QUESTIONS = ["Where does Müller live?", "首都は?", "What is the answer?"]
ANSWERS = [{"text": "Zürich", "answer_start": 21}, {"text": "東京", "answer_start": 0}, None]


@pytest.fixture(scope="module")
def preprocessor():
    return ConvBertQuestionAnswererPreprocessor(sequence_length=16, doc_stride=4,
                                                max_question_length=4)


def crafted_logits(features):
    """A "crafted head": +5 exactly at the labelled start / end, -5 elsewhere."""
    start = np.full(features["token_ids"].shape, -5.0)
    end = start.copy()
    rows = np.arange(len(start))
    start[rows, features["start_positions"]] = 5.0
    end[rows, features["end_positions"]] = 5.0
    return start, end


def test_windows_labels_and_exact_answer_text(preprocessor):
    f = preprocessor.features(QUESTIONS, CONTEXTS, ANSWERS)
    # Long contexts become several overlapping windows.
    np.testing.assert_array_equal(f["example_index"], [0, 0, 1, 1, 2])
    vocab = preprocessor.tokenizer.vocabulary
    for row in range(len(f["example_index"])):
        s, e = f["start_positions"][row], f["end_positions"][row]
        if s:  # the labelled tokens are the answer's pieces, their offsets its characters
            i = f["example_index"][row]
            text = CONTEXTS[i][f["offsets"][row, s, 0]:f["offsets"][row, e, 1]]
            assert text == ANSWERS[i]["text"]
            assert f["segment_ids"][row, s] == 1
    # "Zürich" -> the single piece "zurich", found in both windows of example 0.
    assert [vocab[f["token_ids"][r, f["start_positions"][r]]] for r in (0, 1)] == ["zurich"] * 2
    # The CJK answer is only inside the first window of example 1; the second gets [CLS].
    assert f["start_positions"][2] > 0 and f["start_positions"][3] == 0
    # No answer: [CLS] (0).
    assert f["start_positions"][4] == 0 and f["end_positions"][4] == 0
    start, end = crafted_logits(f)
    answers = preprocessor.decode(start, end, f, CONTEXTS, allow_no_answer=True)
    assert answers == ["Zürich", "東京", ""]
    # Without null answers the best real span is returned.
    assert preprocessor.decode(start, end, f, CONTEXTS)[2] != ""


def test_offsets_cover_accented_and_full_width_text(preprocessor):
    context = "Ｆｕｌｌ width Ångström"
    f = preprocessor.features(["q"], [context])
    spans = [context[a:b] for a, b in f["offsets"][0] if a >= 0]
    # Word pieces map to their own characters: "Ångström" -> "ang" + "##strom".
    assert spans == ["Ｆｕｌｌ", "width", "Ång", "ström"]


def test_answer_outside_context_is_an_error(preprocessor):
    with pytest.raises(ValueError, match="not in its context"):
        preprocessor.features(["q"], ["short context"], [{"text": "Paris", "answer_start": 0}])
    with pytest.raises(ValueError, match="not in its context"):
        preprocessor.features(["q"], ["short"], [{"text": "short!", "answer_start": 0}])


def test_model_masks_padding_in_float32(preprocessor):
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                                intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                                max_sequence_length=16, dtype="mixed_float16")
    qa = ConvBertQuestionAnswerer(backbone, preprocessor=preprocessor)
    x, y = preprocessor((QUESTIONS, CONTEXTS), ANSWERS)
    out = qa(x)
    assert out["start_logits"].dtype == "float32" and out["start_logits"].shape == (5, 16)
    start = np.asarray(out["start_logits"])
    assert (start[x["padding_mask"] == 0] == -1e9).all()
    assert np.abs(start[x["padding_mask"] == 1]).max() < 100
    np.testing.assert_array_equal(y["start_logits"], [10, 6, 6, 0, 0])


def test_squad_through_tfds_fails_clearly():
    with pytest.raises(RuntimeError, match="not available"):
        load_squad()


def test_keras_file_round_trip_keeps_weights_and_preprocessor(preprocessor, tmp_path):
    import keras

    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                                intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                                max_sequence_length=16)
    qa = ConvBertQuestionAnswerer(backbone, preprocessor=preprocessor)
    x, _ = preprocessor((QUESTIONS, CONTEXTS), ANSWERS)
    path = str(tmp_path / "qa.keras")
    qa.save(path)
    restored = keras.models.load_model(path)
    assert type(restored) is ConvBertQuestionAnswerer
    assert restored.preprocessor.doc_stride == preprocessor.doc_stride
    expected, got = qa(x), restored(x)
    for key in ("start_logits", "end_logits"):
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(expected[key]))
