"""Every public layer, backbone, preprocessor and task through the shared harness
(`tests/harness.py`): config / serialization / `.keras` / preset round trips and a fit step.

The lists below are checked against the packages' `__all__`: a new public class without an
entry fails `test_every_public_class_is_covered`.
"""

import inspect

import keras
import numpy as np
import pytest

import convbert_tf.layers
import convbert_tf.models
import convbert_tf.preprocessing
import convbert_tf.tasks
from convbert_tf import layers as L
from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from convbert_tf.preprocessing import (
    ConvBertMaskedLMPreprocessor,
    ConvBertQuestionAnswererPreprocessor,
    ConvBertTextClassifierPreprocessor,
    ConvBertTokenClassifierPreprocessor,
    ConvBertTokenizer,
    GroupBertMaskedLMPreprocessor,
    GroupBertQuestionAnswererPreprocessor,
    GroupBertTextClassifierPreprocessor,
    GroupBertTokenClassifierPreprocessor,
    GroupBertTokenizer,
)
from convbert_tf.tasks import (
    ConvBertElectraPretrainer,
    ConvBertMaskedLM,
    ConvBertQuestionAnswerer,
    ConvBertTextClassifier,
    ConvBertTextRegressor,
    ConvBertTokenClassifier,
    GroupBertMaskedLM,
    GroupBertQuestionAnswerer,
    GroupBertTextClassifier,
    GroupBertTextRegressor,
    GroupBertTokenClassifier,
)
from tests.conftest import backbone_batch
from tests.harness import check_backbone, check_layer, check_preprocessor, check_task

SEQ = 16
TEXTS = ["a great film", "dull and slow , sadly", "the quick brown fox jumps", "it rains"]
PAIRS = (["a man plays", "it rains"], ["a man is playing", "the sun shines"])
QUESTIONS = ["Where does Müller live?", "Who knows?"]
CONTEXTS = ["Café Müller lives in Zürich since 1990 and likes trains.", "Nobody knows it."]
ANSWERS = [{"text": "Zürich", "answer_start": 21}, None]
WORDS = [["John", "lives", "in", "Zürich"], ["Kids", "play"]]
WORD_LABELS = [[1, 0, 0, 2], [0, 0]]

# A small vocabulary holding the words above (the packaged 30,522-entry one costs seconds per
# tokenizer, and the harness builds several per class).
VOCABULARY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", "?", ".", *sorted({
    word.lower() for text in [*TEXTS, *PAIRS[0], *PAIRS[1], *QUESTIONS, *CONTEXTS,
                              *(" ".join(words) for words in WORDS)]
    for word in text.replace("?", " ").replace(".", " ").replace(",", " ").split()})]

_rng = np.random.default_rng(0)
HIDDEN = _rng.normal(size=(2, 6, 16)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], "int32")

LAYERS = {
    "BertEmbedding": (lambda: L.BertEmbedding(50, 16, max_sequence_length=8),
                      {"token_ids": np.array([[1, 2, 3, 0], [4, 5, 0, 0]], "int32"),
                       "segment_ids": np.array([[0, 0, 1, 1], [0, 1, 1, 1]], "int32")}),
    "ConvBertLayer": (lambda: L.ConvBertLayer(16, 4, 32, conv_kernel_size=3, num_groups=2),
                      {"inputs": HIDDEN, "padding_mask": MASK}),
    "Dropout": (lambda: L.Dropout(0.5), HIDDEN),
    "GroupBertConvModule": (lambda: L.GroupBertConvModule(16, kernel_size=3, group_size=8),
                            {"inputs": HIDDEN, "padding_mask": MASK}),
    "GroupBertLayer": (lambda: L.GroupBertLayer(16, 2, 32, num_groups=2, conv_kernel_size=3,
                                                conv_group_size=8),
                       {"inputs": HIDDEN, "padding_mask": MASK}),
    "GroupedDense": (lambda: L.GroupedDense(8, num_groups=2), HIDDEN),
    "GroupedFeedForward": (lambda: L.GroupedFeedForward(16, 32, num_groups=2), HIDDEN),
    "MixedAttention": (lambda: L.MixedAttention(16, 4, conv_kernel_size=3),
                       {"inputs": HIDDEN, "padding_mask": MASK}),
    "SelfAttention": (lambda: L.SelfAttention(16, 2), {"inputs": HIDDEN, "padding_mask": MASK}),
    "SpanDynamicConv": (lambda: L.SpanDynamicConv(2, 8, kernel_size=3),
                        {"inputs": HIDDEN, "query": HIDDEN}),
}


def tiny_convbert():
    return ConvBertBackbone(vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=2,
                            hidden_dim=16, intermediate_dim=32, embedding_dim=8,
                            conv_kernel_size=3, dropout=0.0, max_sequence_length=SEQ)


def tiny_groupbert():
    return GroupBertBackbone(vocabulary_size=len(VOCABULARY), num_layers=1, num_heads=2,
                             hidden_dim=16, intermediate_dim=32, num_groups=2,
                             conv_kernel_size=3, conv_group_size=8, dropout=0.0,
                             max_sequence_length=SEQ)


BACKBONES = {"ConvBertBackbone": tiny_convbert, "GroupBertBackbone": tiny_groupbert}


def make_pre(cls, **kwargs):
    """A preprocessor of class `cls` on the small vocabulary, with its family's tokenizer."""
    family = GroupBertTokenizer if cls.__name__.startswith("GroupBert") else ConvBertTokenizer
    return cls(family(vocabulary=VOCABULARY), **kwargs)


def _qa_call(pre, inputs):
    return pre(*inputs)


def _tag_call(pre, inputs):
    return pre(*inputs)


PREPROCESSORS = {
    "ConvBertTokenizer": (lambda: ConvBertTokenizer(vocabulary=VOCABULARY), TEXTS, None),
    "GroupBertTokenizer": (lambda: GroupBertTokenizer(vocabulary=VOCABULARY), TEXTS, None),
    "ConvBertTextClassifierPreprocessor": (
        lambda: make_pre(ConvBertTextClassifierPreprocessor, sequence_length=SEQ), TEXTS, None),
    "GroupBertTextClassifierPreprocessor": (
        lambda: make_pre(GroupBertTextClassifierPreprocessor, sequence_length=SEQ), PAIRS, None),
    # Masking is random: a selection rate of 0 makes the outputs comparable.
    "ConvBertMaskedLMPreprocessor": (
        lambda: make_pre(ConvBertMaskedLMPreprocessor, sequence_length=SEQ,
                         mask_selection_rate=0.0, mask_selection_length=4), TEXTS, None),
    "GroupBertMaskedLMPreprocessor": (
        lambda: make_pre(GroupBertMaskedLMPreprocessor, sequence_length=SEQ,
                         mask_selection_rate=0.0, mask_selection_length=4), TEXTS, None),
    "ConvBertQuestionAnswererPreprocessor": (
        lambda: make_pre(ConvBertQuestionAnswererPreprocessor, sequence_length=SEQ,
                         doc_stride=4, max_question_length=4),
        ((QUESTIONS, CONTEXTS), ANSWERS), _qa_call),
    "GroupBertQuestionAnswererPreprocessor": (
        lambda: make_pre(GroupBertQuestionAnswererPreprocessor, sequence_length=SEQ,
                         doc_stride=4, max_question_length=4),
        ((QUESTIONS, CONTEXTS), ANSWERS), _qa_call),
    "ConvBertTokenClassifierPreprocessor": (
        lambda: make_pre(ConvBertTokenClassifierPreprocessor, sequence_length=SEQ),
        (WORDS, WORD_LABELS), _tag_call),
    "GroupBertTokenClassifierPreprocessor": (
        lambda: make_pre(GroupBertTokenClassifierPreprocessor, sequence_length=SEQ),
        (WORDS, WORD_LABELS), _tag_call),
}


def _arrays(value):
    if isinstance(value, dict):
        return {k: np.asarray(v) for k, v in value.items()}
    return None if value is None else np.asarray(value)


def _classifier_data(pre):
    return _arrays(pre(TEXTS)), np.array([1, 0, 1, 0], "int32"), None


def _regressor_data(pre):
    return _arrays(pre(TEXTS)), np.array([4.5, 0.5, 3.0, 1.0], "float32"), None


def _mlm_data(pre):
    x, y, weight = pre(TEXTS)
    return _arrays(x), _arrays(y), _arrays(weight)


def _qa_data(pre):
    x, y = pre((QUESTIONS, CONTEXTS), ANSWERS)
    return _arrays(x), _arrays(y), None


def _tag_data(pre):
    x, y, weight = pre(WORDS, WORD_LABELS)
    return _arrays(x), _arrays(y), _arrays(weight)


def _mlm_pre(cls):
    return make_pre(cls, sequence_length=SEQ, mask_selection_rate=0.3, mask_selection_length=4)


def _qa_pre(cls):
    return make_pre(cls, sequence_length=SEQ, doc_stride=4, max_question_length=4)


# name -> (task factory taking (backbone, preprocessor), backbone, preprocessor, data)
TASKS = {
    "ConvBertTextClassifier": (
        lambda b, p: ConvBertTextClassifier(b, num_classes=3, preprocessor=p, dropout=0.2),
        tiny_convbert, lambda: make_pre(ConvBertTextClassifierPreprocessor, sequence_length=SEQ),
        _classifier_data),
    "GroupBertTextClassifier": (
        lambda b, p: GroupBertTextClassifier(b, num_classes=2, preprocessor=p),
        tiny_groupbert, lambda: make_pre(GroupBertTextClassifierPreprocessor, sequence_length=SEQ),
        _classifier_data),
    "ConvBertTextRegressor": (
        lambda b, p: ConvBertTextRegressor(b, preprocessor=p, dropout=0.2, pooling="pooled"),
        tiny_convbert, lambda: make_pre(ConvBertTextClassifierPreprocessor, sequence_length=SEQ),
        _regressor_data),
    "GroupBertTextRegressor": (
        lambda b, p: GroupBertTextRegressor(b, preprocessor=p),
        tiny_groupbert, lambda: make_pre(GroupBertTextClassifierPreprocessor, sequence_length=SEQ),
        _regressor_data),
    "ConvBertMaskedLM": (
        lambda b, p: ConvBertMaskedLM(b, preprocessor=p), tiny_convbert,
        lambda: _mlm_pre(ConvBertMaskedLMPreprocessor), _mlm_data),
    "GroupBertMaskedLM": (
        lambda b, p: GroupBertMaskedLM(b, preprocessor=p), tiny_groupbert,
        lambda: _mlm_pre(GroupBertMaskedLMPreprocessor), _mlm_data),
    "ConvBertElectraPretrainer": (
        lambda b, p: ConvBertElectraPretrainer(b, preprocessor=p, seed=3), tiny_convbert,
        lambda: _mlm_pre(ConvBertMaskedLMPreprocessor), _mlm_data),
    "ConvBertQuestionAnswerer": (
        lambda b, p: ConvBertQuestionAnswerer(b, preprocessor=p), tiny_convbert,
        lambda: _qa_pre(ConvBertQuestionAnswererPreprocessor), _qa_data),
    "GroupBertQuestionAnswerer": (
        lambda b, p: GroupBertQuestionAnswerer(b, preprocessor=p), tiny_groupbert,
        lambda: _qa_pre(GroupBertQuestionAnswererPreprocessor), _qa_data),
    "ConvBertTokenClassifier": (
        lambda b, p: ConvBertTokenClassifier(b, num_labels=3, preprocessor=p, dropout=0.2),
        tiny_convbert, lambda: make_pre(ConvBertTokenClassifierPreprocessor, sequence_length=SEQ),
        _tag_data),
    "GroupBertTokenClassifier": (
        lambda b, p: GroupBertTokenClassifier(b, num_labels=3, preprocessor=p),
        tiny_groupbert, lambda: make_pre(GroupBertTokenClassifierPreprocessor, sequence_length=SEQ),
        _tag_data),
}


def _public_classes(module):
    return {name for name in module.__all__ if inspect.isclass(getattr(module, name))}


def test_every_public_class_is_covered():
    assert _public_classes(convbert_tf.layers) == set(LAYERS)
    assert _public_classes(convbert_tf.models) == set(BACKBONES)
    assert _public_classes(convbert_tf.preprocessing) == set(PREPROCESSORS)
    assert _public_classes(convbert_tf.tasks) == set(TASKS)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(name):
    make, inputs = LAYERS[name]
    check_layer(make, inputs)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_backbone(name, tmp_path):
    check_backbone(BACKBONES[name], backbone_batch(seq=SEQ, vocab=len(VOCABULARY)), tmp_path)


@pytest.mark.parametrize("name", sorted(PREPROCESSORS))
def test_preprocessor(name, tmp_path):
    make, inputs, call = PREPROCESSORS[name]
    backbone = (tiny_groupbert if name.startswith("GroupBert") else tiny_convbert)()
    # The masked-LM preprocessors' tf.data path has its own tests (and costs seconds here).
    check_preprocessor(make, inputs, tmp_path, call, backbone, tf_data="MaskedLM" not in name)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task(name, tmp_path):
    make, make_backbone, make_preprocessor, data = TASKS[name]
    preprocessor = make_preprocessor()
    x, y, sample_weight = data(preprocessor)
    keras.utils.set_random_seed(0)
    # The pretrainer samples its replacements: only the generator's logits are deterministic.
    compare = ["mlm_logits"] if name == "ConvBertElectraPretrainer" else None
    check_task(make(make_backbone(), preprocessor), x, y, sample_weight, tmp_path,
               compare=compare)
