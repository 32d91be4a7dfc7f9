"""What the task heads share: the sentence vector they read and their output dense."""

import keras

from convbert_tf.layers.initializers import truncated_normal
from convbert_tf.models import ConvBertBackbone

POOLING_MODES = ("first_token", "pooled", "mean")
POOLING_CHOICES = ("auto", *POOLING_MODES)


def check_pooling(pooling, argument="`pooling`"):
    """Raises a `ValueError` naming `argument` unless `pooling` is one of `POOLING_CHOICES`."""
    if pooling not in POOLING_CHOICES:
        raise ValueError(f"{argument} must be auto or one of {', '.join(POOLING_MODES)}, got "
                         f"{pooling!r}.")


def resolve_pooling(backbone, pooling):
    """`"auto"` -> `"first_token"` for ConvBERT (the official head reads `sequence_output[:, 0]`;
    ConvBERT has no pooler), `"pooled"` for other backbones (GroupBERT's `pooled_output` is its
    trained tanh pooler over the first token)."""
    check_pooling(pooling)
    if pooling == "auto":
        return "first_token" if isinstance(backbone, ConvBertBackbone) else "pooled"
    return pooling


def sentence_features(backbone, pooling):
    """The backbone's inputs and the `[batch, hidden]` sentence vector the head reads."""
    outputs = backbone(backbone.input)
    sequence = outputs["sequence_output"]
    if pooling == "first_token":
        return backbone.input, sequence[:, 0, :]
    if pooling == "mean":
        # The mean over non-padding tokens, summed in float32 (a float16 sum of 512 states can
        # overflow). A discriminator pretrained briefly with ELECTRA's objective has no signal
        # at its first token (never replaced, always "original"); its mean state transfers
        # better (docs/pretraining.md).
        mask = keras.ops.cast(backbone.input["padding_mask"], "float32")[:, :, None]
        total = keras.ops.sum(keras.ops.cast(sequence, "float32") * mask, axis=1)
        mean = total / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)
        return backbone.input, keras.ops.cast(mean, sequence.dtype)
    return backbone.input, outputs["pooled_output"]


def head_dense(backbone, units, name):
    """A head's output `Dense(units)`: BERT's truncated-normal(0.02) kernel init and the
    backbone's dtype policy (classifier, regressor, QA span and token-tagging heads)."""
    return keras.layers.Dense(units, kernel_initializer=truncated_normal(0.02),
                              dtype=backbone.dtype_policy, name=name)
