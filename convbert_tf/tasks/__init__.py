"""Tasks: a backbone plus a head (and optionally a preprocessor), ready for `fit`."""

from convbert_tf.tasks.text_classifier import ConvBertTextClassifier
from convbert_tf.tasks.text_regressor import ConvBertTextRegressor

__all__ = ["ConvBertTextClassifier", "ConvBertTextRegressor"]
