"""GroupBERT's tasks: the ConvBERT heads, registered for `GroupBertBackbone`.

The heads read only `sequence_output` / `pooled_output`, so they serve both backbones; these
subclasses add `backbone_cls` and `preprocessor_cls`, which keras-hub's `from_preset` uses to
pick the class for a preset: `ConvBertTextClassifier.from_preset(groupbert_preset,
num_classes=2)` (or `keras_hub.models.TextClassifier.from_preset(...)`) returns a
`GroupBertTextClassifier` with a GroupBERT backbone and preprocessor. The ELECTRA pretrainer is
ConvBERT's recipe and has no GroupBERT counterpart.
"""

import keras

from convbert_tf.models import GroupBertBackbone
from convbert_tf.preprocessing.groupbert_preprocessing import (
    GroupBertMaskedLMPreprocessor,
    GroupBertQuestionAnswererPreprocessor,
    GroupBertTextClassifierPreprocessor,
    GroupBertTokenClassifierPreprocessor,
)
from convbert_tf.tasks.masked_lm import ConvBertMaskedLM
from convbert_tf.tasks.question_answerer import ConvBertQuestionAnswerer
from convbert_tf.tasks.text_classifier import ConvBertTextClassifier
from convbert_tf.tasks.text_regressor import ConvBertTextRegressor
from convbert_tf.tasks.token_classifier import ConvBertTokenClassifier


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertTextClassifier(ConvBertTextClassifier):
    """`ConvBertTextClassifier` for GroupBERT presets (head on the trained pooler by default).

    Example:
    >>> classifier = GroupBertTextClassifier.from_preset("./my_groupbert", num_classes=2)
    """

    backbone_cls = GroupBertBackbone
    preprocessor_cls = GroupBertTextClassifierPreprocessor


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertTextRegressor(ConvBertTextRegressor):
    """`ConvBertTextRegressor` for GroupBERT presets.

    Example:
    >>> regressor = GroupBertTextRegressor.from_preset("./my_groupbert")
    """

    backbone_cls = GroupBertBackbone
    preprocessor_cls = GroupBertTextClassifierPreprocessor


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertMaskedLM(ConvBertMaskedLM):
    """`ConvBertMaskedLM` for GroupBERT presets.

    Example:
    >>> mlm = GroupBertMaskedLM.from_preset("./my_groupbert")
    """

    backbone_cls = GroupBertBackbone
    preprocessor_cls = GroupBertMaskedLMPreprocessor


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertQuestionAnswerer(ConvBertQuestionAnswerer):
    """`ConvBertQuestionAnswerer` for GroupBERT presets.

    Example:
    >>> qa = GroupBertQuestionAnswerer.from_preset("./my_groupbert")
    """

    backbone_cls = GroupBertBackbone
    preprocessor_cls = GroupBertQuestionAnswererPreprocessor


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertTokenClassifier(ConvBertTokenClassifier):
    """`ConvBertTokenClassifier` for GroupBERT presets.

    Example:
    >>> tagger = GroupBertTokenClassifier.from_preset("./my_groupbert", num_labels=9)
    """

    backbone_cls = GroupBertBackbone
    preprocessor_cls = GroupBertTokenClassifierPreprocessor
