"""GroupBERT's tokenizer and preprocessors: the ConvBERT ones, registered for `GroupBertBackbone`.

GroupBERT uses BERT's uncased WordPiece vocabulary and the same packing, so these classes add
nothing but `backbone_cls`: keras-hub's `from_preset` picks, among the subclasses of the class
it is called on, the one whose `backbone_cls` is the preset's backbone class
(`ConvBertTextClassifierPreprocessor.from_preset(groupbert_preset)` returns a
`GroupBertTextClassifierPreprocessor`), as it does for its own model families.
"""

import keras

from convbert_tf.models import GroupBertBackbone
from convbert_tf.preprocessing.convbert_tokenizer import ConvBertTokenizer
from convbert_tf.preprocessing.masked_lm_preprocessor import ConvBertMaskedLMPreprocessor
from convbert_tf.preprocessing.question_answerer_preprocessor import (
    ConvBertQuestionAnswererPreprocessor,
)
from convbert_tf.preprocessing.text_classifier_preprocessor import (
    ConvBertTextClassifierPreprocessor,
)
from convbert_tf.preprocessing.token_classifier_preprocessor import (
    ConvBertTokenClassifierPreprocessor,
)


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertTokenizer(ConvBertTokenizer):
    """`ConvBertTokenizer` for GroupBERT presets (same vocabulary and rules).

    Example:
    >>> tokenizer = GroupBertTokenizer()
    >>> tokenizer("The quick brown fox.")
    """

    backbone_cls = GroupBertBackbone


def _tokenizer_or_default(tokenizer):
    return GroupBertTokenizer() if tokenizer is None else tokenizer


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertTextClassifierPreprocessor(ConvBertTextClassifierPreprocessor):
    """`ConvBertTextClassifierPreprocessor` for GroupBERT (see the module docstring).

    Example:
    >>> GroupBertTextClassifierPreprocessor(sequence_length=16)("hello")["token_ids"].shape
    """

    backbone_cls = GroupBertBackbone
    tokenizer_cls = GroupBertTokenizer

    def __init__(self, tokenizer=None, **kwargs):
        super().__init__(tokenizer=_tokenizer_or_default(tokenizer), **kwargs)


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertMaskedLMPreprocessor(ConvBertMaskedLMPreprocessor):
    """`ConvBertMaskedLMPreprocessor` for GroupBERT (see the module docstring).

    Example:
    >>> x, y, w = GroupBertMaskedLMPreprocessor(sequence_length=16)(["some text"])
    """

    backbone_cls = GroupBertBackbone
    tokenizer_cls = GroupBertTokenizer

    def __init__(self, tokenizer=None, **kwargs):
        super().__init__(tokenizer=_tokenizer_or_default(tokenizer), **kwargs)


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertQuestionAnswererPreprocessor(ConvBertQuestionAnswererPreprocessor):
    """`ConvBertQuestionAnswererPreprocessor` for GroupBERT (see the module docstring).

    Example:
    >>> pre = GroupBertQuestionAnswererPreprocessor(sequence_length=64, doc_stride=16)
    """

    backbone_cls = GroupBertBackbone
    tokenizer_cls = GroupBertTokenizer

    def __init__(self, tokenizer=None, **kwargs):
        super().__init__(tokenizer=_tokenizer_or_default(tokenizer), **kwargs)


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertTokenClassifierPreprocessor(ConvBertTokenClassifierPreprocessor):
    """`ConvBertTokenClassifierPreprocessor` for GroupBERT (see the module docstring).

    Example:
    >>> x, y, w = GroupBertTokenClassifierPreprocessor(sequence_length=16)([["Hi", "Bob"]])
    """

    backbone_cls = GroupBertBackbone
    tokenizer_cls = GroupBertTokenizer

    def __init__(self, tokenizer=None, **kwargs):
        super().__init__(tokenizer=_tokenizer_or_default(tokenizer), **kwargs)
