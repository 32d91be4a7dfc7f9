"""What the task heads share: the sentence vector they read and their output dense."""

import keras

from convbert_tf.layers.initializers import truncated_normal
from convbert_tf.models import ConvBertBackbone

POOLING_MODES = ("first_token", "pooled")


def resolve_pooling(backbone, pooling):
    """`"auto"` -> `"first_token"` for ConvBERT (the official head reads `sequence_output[:, 0]`;
    ConvBERT has no pooler), `"pooled"` for other backbones (GroupBERT's `pooled_output` is its
    trained tanh pooler over the first token)."""
    if pooling == "auto":
        return "first_token" if isinstance(backbone, ConvBertBackbone) else "pooled"
    if pooling not in POOLING_MODES:
        raise ValueError(f"`pooling` must be 'auto' or one of {POOLING_MODES}, got {pooling!r}.")
    return pooling


def sentence_features(backbone, pooling):
    """The backbone's inputs and the `[batch, hidden]` sentence vector the head reads."""
    outputs = backbone(backbone.input)
    if pooling == "first_token":
        return backbone.input, outputs["sequence_output"][:, 0, :]
    return backbone.input, outputs["pooled_output"]


def head_dense(backbone, units, name):
    """A head's output `Dense(units)`: BERT's truncated-normal(0.02) kernel init and the
    backbone's dtype policy (classifier, regressor, QA span and token-tagging heads)."""
    return keras.layers.Dense(units, kernel_initializer=truncated_normal(0.02),
                              dtype=backbone.dtype_policy, name=name)
