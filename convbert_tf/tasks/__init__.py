"""Tasks: a backbone plus a head (and optionally a preprocessor), ready for `fit`."""

from convbert_tf.tasks.electra_pretrainer import ConvBertElectraPretrainer
from convbert_tf.tasks.groupbert_tasks import (
    GroupBertMaskedLM,
    GroupBertQuestionAnswerer,
    GroupBertTextClassifier,
    GroupBertTextRegressor,
    GroupBertTokenClassifier,
)
from convbert_tf.tasks.masked_lm import ConvBertMaskedLM
from convbert_tf.tasks.question_answerer import ConvBertQuestionAnswerer
from convbert_tf.tasks.text_classifier import ConvBertTextClassifier
from convbert_tf.tasks.text_regressor import ConvBertTextRegressor
from convbert_tf.tasks.token_classifier import ConvBertTokenClassifier

__all__ = [
    "ConvBertElectraPretrainer",
    "ConvBertMaskedLM",
    "ConvBertQuestionAnswerer",
    "ConvBertTextClassifier",
    "ConvBertTextRegressor",
    "ConvBertTokenClassifier",
    "GroupBertMaskedLM",
    "GroupBertQuestionAnswerer",
    "GroupBertTextClassifier",
    "GroupBertTextRegressor",
    "GroupBertTokenClassifier",
]
