"""ConvBERT's mixed attention: self-attention heads and span-conv heads sharing the query."""

import keras
from keras import ops

from convbert_tf.layers.dropout import Dropout
from convbert_tf.layers.grouped_dense import dense_layer, in_compute_dtype
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.self_attention import (
    attention_bias,
    merge_heads,
    scaled_dot_product_attention,
    split_heads,
)
from convbert_tf.layers.span_dynamic_conv import SpanDynamicConv
from convbert_tf.layers.validation import check_divisible, check_odd, check_positive, check_rate


@keras.saving.register_keras_serializable(package="convbert_tf")
class MixedAttention(keras.layers.Layer):
    """Mixed attention block of ConvBERT (without the output projection).

    With `d = hidden_dim // num_heads` (the head size of the ORIGINAL head count) and the
    bottleneck `N = num_heads // head_ratio`, it runs N self-attention heads and N span-based
    dynamic convolution heads of width d each. Both read the same query projection. The output
    is `[self-attention heads | conv heads]`, i.e. `[B, T, 2 * N * d]`.

    Args:
        hidden_dim: model width `D`; divisible by `num_heads`.
        num_heads: the configured head count `Nh` (before the head_ratio bottleneck).
        head_ratio: bottleneck ratio; must divide `num_heads`.
        conv_kernel_size: odd span width `K`.
        dropout: dropout rate on the attention probabilities (the conv branch has none).
        kernel_initializer: initializer of the projections (None: truncated normal, std 0.02).

    Call args:
        inputs: `[B, T, D]`.
        padding_mask: optional `[B, T]` of {0, 1}; masks keys of the self-attention heads only.
        return_attention_scores: also return the `[B, N, T, T]` attention probabilities.

    Example:
    >>> layer = MixedAttention(hidden_dim=16, num_heads=4, head_ratio=2, conv_kernel_size=3)
    >>> layer(np.ones((2, 5, 16), "float32")).shape
    (2, 5, 16)
    """

    def __init__(self, hidden_dim, num_heads, head_ratio=2, conv_kernel_size=9, dropout=0.0,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive(hidden_dim=hidden_dim, num_heads=num_heads, head_ratio=head_ratio)
        check_divisible("hidden_dim", hidden_dim, "num_heads", num_heads)
        check_divisible("num_heads", num_heads, "head_ratio", head_ratio)
        check_odd("conv_kernel_size", conv_kernel_size)
        check_rate("dropout", dropout)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.head_ratio = head_ratio
        self.conv_kernel_size = conv_kernel_size
        self.dropout = dropout
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )

        self.head_dim = hidden_dim // num_heads
        self.num_mixed_heads = num_heads // head_ratio
        self.attention_dim = self.num_mixed_heads * self.head_dim

        self.query_dense = dense_layer(self, self.attention_dim, "query")
        self.key_dense = dense_layer(self, self.attention_dim, "key")
        self.value_dense = dense_layer(self, self.attention_dim, "value")
        self.span_conv = SpanDynamicConv(
            self.num_mixed_heads,
            self.head_dim,
            conv_kernel_size,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="span_conv",
        )
        self.probs_dropout = Dropout(dropout, dtype=self.dtype_policy,
                                                  name="probs_dropout")

    @property
    def output_dim(self):
        """Width of the concatenated output, `2 * N * d`."""
        return 2 * self.attention_dim

    def build(self, input_shape):
        for layer in (self.query_dense, self.key_dense, self.value_dense):
            layer.build(input_shape)
        self.span_conv.build(input_shape, (*input_shape[:-1], self.attention_dim))

    def call(self, inputs, padding_mask=None, training=None, return_attention_scores=False):
        query = in_compute_dtype(self, self.query_dense(inputs))
        conv = in_compute_dtype(self, self.span_conv(inputs, query))
        heads = self.num_mixed_heads
        bias = None if padding_mask is None else attention_bias(padding_mask)
        context, probs = scaled_dot_product_attention(
            split_heads(query, heads),
            split_heads(in_compute_dtype(self, self.key_dense(inputs)), heads),
            split_heads(in_compute_dtype(self, self.value_dense(inputs)), heads),
            bias,
            self.probs_dropout,
            training,
        )
        outputs = ops.concatenate([merge_heads(context), conv], axis=-1)
        if return_attention_scores:
            return outputs, probs
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "head_ratio": self.head_ratio,
                "conv_kernel_size": self.conv_kernel_size,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
