"""BERT multi-head self-attention, written with `keras.ops` so that it exports to TFLite builtins.

ConvBERT's mixed attention reuses the functions here for its self-attention heads; GroupBERT's
attention module is the `SelfAttention` layer.
"""

import math

import keras
from keras import ops

from convbert_tf.layers.dropout import Dropout
from convbert_tf.layers.grouped_dense import dense_layer, in_compute_dtype
from convbert_tf.layers.initializers import truncated_normal
from convbert_tf.layers.validation import check_divisible, check_positive, check_rate

# BERT's additive mask value. It is added in float32 (see `attention_bias`), so it is safe under
# mixed_float16 too: no -inf, no overflow, and exp(-10000) underflows to exactly 0.
MASK_BIAS = -10000.0


def split_heads(x, num_heads):
    """`[B, T, H * d]` -> `[B, H, T, d]`."""
    head_dim = x.shape[-1] // num_heads
    x = ops.reshape(x, (-1, ops.shape(x)[1], num_heads, head_dim))
    return ops.transpose(x, (0, 2, 1, 3))


def merge_heads(x):
    """`[B, H, T, d]` -> `[B, T, H * d]`."""
    num_heads, head_dim = x.shape[1], x.shape[3]
    x = ops.transpose(x, (0, 2, 1, 3))
    return ops.reshape(x, (-1, ops.shape(x)[1], num_heads * head_dim))


def attention_bias(padding_mask):
    """`[B, T]` mask of {0, 1} -> float32 `[B, 1, 1, T]` additive bias of {-10000, 0}.

    `expand_dims` rather than `x[:, None, None, :]`: the latter does not convert to TFLite.
    """
    mask = ops.cast(padding_mask, "float32")
    bias = (1.0 - mask) * MASK_BIAS
    return ops.expand_dims(ops.expand_dims(bias, 1), 1)


def scaled_dot_product_attention(query, key, value, bias=None, dropout=None, training=None):
    """softmax(q k^T / sqrt(d) + bias) v, per head, with the softmax in float32.

    Args:
        query, key, value: `[B, H, T, d]` tensors.
        bias: optional float32 additive bias broadcastable to `[B, H, T, T]`.
        dropout: optional `keras.layers.Dropout` applied to the probabilities.
        training: Python bool or None, forwarded to `dropout`.

    Returns:
        `(context [B, H, T, d], probabilities [B, H, T, T])`.
    """
    head_dim = query.shape[-1]
    scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2)))
    scores = ops.cast(scores, "float32") * (1.0 / math.sqrt(head_dim))
    if bias is not None:
        scores = scores + bias
    probs = ops.cast(ops.softmax(scores, axis=-1), value.dtype)
    if dropout is not None:
        probs = dropout(probs, training=training)
    return ops.matmul(probs, value), probs


@keras.saving.register_keras_serializable(package="convbert_tf")
class SelfAttention(keras.layers.Layer):
    """Standard BERT multi-head self-attention (GroupBERT's attention module).

    Args:
        hidden_dim: model width `D`; must be divisible by `num_heads`.
        num_heads: number of attention heads.
        dropout: dropout rate on the attention probabilities.
        kernel_initializer: initializer of the four projections (None: truncated normal, std 0.02).

    Call args:
        inputs: `[B, T, D]`.
        padding_mask: optional `[B, T]` tensor of {0, 1}; 0 marks padding (masked keys).
        return_attention_scores: also return the `[B, H, T, T]` probabilities.

    Example:
    >>> layer = SelfAttention(hidden_dim=8, num_heads=2)
    >>> layer(np.ones((1, 4, 8), "float32")).shape
    (1, 4, 8)
    """

    def __init__(self, hidden_dim, num_heads, dropout=0.0, kernel_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        check_positive(hidden_dim=hidden_dim, num_heads=num_heads)
        check_divisible("hidden_dim", hidden_dim, "num_heads", num_heads)
        check_rate("dropout", dropout)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.dropout = dropout
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )

        self.query_dense = dense_layer(self, hidden_dim, "query")
        self.key_dense = dense_layer(self, hidden_dim, "key")
        self.value_dense = dense_layer(self, hidden_dim, "value")
        self.output_dense = dense_layer(self, hidden_dim, "attention_output")
        self.probs_dropout = Dropout(dropout, dtype=self.dtype_policy,
                                                  name="probs_dropout")

    def build(self, input_shape):
        for layer in (self.query_dense, self.key_dense, self.value_dense):
            layer.build(input_shape)
        self.output_dense.build((*input_shape[:-1], self.hidden_dim))

    def call(self, inputs, padding_mask=None, training=None, return_attention_scores=False):
        q = split_heads(in_compute_dtype(self, self.query_dense(inputs)), self.num_heads)
        k = split_heads(in_compute_dtype(self, self.key_dense(inputs)), self.num_heads)
        v = split_heads(in_compute_dtype(self, self.value_dense(inputs)), self.num_heads)
        bias = None if padding_mask is None else attention_bias(padding_mask)
        context, probs = scaled_dot_product_attention(
            q, k, v, bias, self.probs_dropout, training
        )
        outputs = self.output_dense(merge_heads(context))
        if return_attention_scores:
            return outputs, probs
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
