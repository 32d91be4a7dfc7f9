"""Keras layers of ConvBERT and GroupBERT (`keras.ops` only, but for `Dropout`'s
TensorFlow fast path: they run on TensorFlow and JAX)."""

from convbert_tf.layers.activations import gelu_exact
from convbert_tf.layers.bert_embedding import BertEmbedding
from convbert_tf.layers.convbert_layer import ConvBertLayer
from convbert_tf.layers.dropout import Dropout
from convbert_tf.layers.groupbert_conv_module import GroupBertConvModule
from convbert_tf.layers.groupbert_layer import GroupBertLayer
from convbert_tf.layers.grouped_dense import GroupedDense, grouped_matmul
from convbert_tf.layers.grouped_feed_forward import GroupedFeedForward
from convbert_tf.layers.mixed_attention import MixedAttention
from convbert_tf.layers.self_attention import SelfAttention, scaled_dot_product_attention
from convbert_tf.layers.span_dynamic_conv import SpanDynamicConv

__all__ = [
    "BertEmbedding",
    "ConvBertLayer",
    "Dropout",
    "GroupBertConvModule",
    "GroupBertLayer",
    "GroupedDense",
    "GroupedFeedForward",
    "MixedAttention",
    "SelfAttention",
    "SpanDynamicConv",
    "gelu_exact",
    "grouped_matmul",
    "scaled_dot_product_attention",
]
