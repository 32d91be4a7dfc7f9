"""ConvBERT's transformer block: mixed attention and a (grouped) FFN, post-LayerNorm like BERT."""

import keras

from convbert_tf.layers.activations import gelu_exact
from convbert_tf.layers.dropout import Dropout
from convbert_tf.layers.grouped_dense import dense_layer, in_compute_dtype
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.mixed_attention import MixedAttention
from convbert_tf.layers.validation import check_divisible, check_positive, check_rate


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertLayer(keras.layers.Layer):
    """One ConvBERT encoder layer (post-LN, LayerNorm epsilon 1e-12, exact GELU).

        a = LayerNorm(x + Dropout(Dense(D)(MixedAttention(x))))
        y = LayerNorm(a + Dropout(FFN2(gelu(FFN1(a)))))

    FFN1 and FFN2 are `Dense` when `num_groups == 1` and `GroupedDense` otherwise (both of
    them, with no mixing across groups: ConvBERT medium-small uses 2 groups).

    Args:
        hidden_dim: model width `D`.
        num_heads: configured head count (before the `head_ratio` bottleneck).
        intermediate_dim: FFN width `I`.
        head_ratio: mixed-attention bottleneck ratio (2 in all released models).
        conv_kernel_size: span-conv width (9).
        num_groups: channel groups of the FFN (1 or 2 in the released models).
        dropout: dropout rate of the residual branches and attention probabilities.
        layer_norm_epsilon: LayerNorm epsilon (1e-12; Keras's default 1e-3 is wrong here).
        kernel_initializer: initializer of all projections (None: truncated normal, std 0.02).

    Call args:
        inputs: `[B, T, D]`.
        padding_mask: optional `[B, T]` of {0, 1}.
        return_attention_scores: also return the self-attention probabilities.

    Example:
    >>> layer = ConvBertLayer(hidden_dim=16, num_heads=4, intermediate_dim=32,
    ...                       conv_kernel_size=3, num_groups=2)
    >>> layer(np.ones((2, 5, 16), "float32")).shape
    (2, 5, 16)
    """

    def __init__(self, hidden_dim, num_heads, intermediate_dim, head_ratio=2,
                 conv_kernel_size=9, num_groups=1, dropout=0.1, layer_norm_epsilon=1e-12,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive(intermediate_dim=intermediate_dim, num_groups=num_groups)
        check_divisible("hidden_dim", hidden_dim, "num_groups", num_groups)
        check_divisible("intermediate_dim", intermediate_dim, "num_groups", num_groups)
        check_rate("dropout", dropout)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.head_ratio = head_ratio
        self.conv_kernel_size = conv_kernel_size
        self.num_groups = num_groups
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )

        policy = self.dtype_policy
        self.attention = MixedAttention(
            hidden_dim, num_heads, head_ratio, conv_kernel_size, dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=policy, name="attention",
        )
        self.attention_output_dense = dense_layer(self, hidden_dim, "attention_output_dense")
        self.attention_dropout = Dropout(dropout, dtype=policy,
                                                      name="attention_dropout")
        self.attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=policy, name="attention_layer_norm"
        )
        # GELU is applied in `call`, in this layer's compute dtype, not inside the dense.
        self.intermediate_dense = dense_layer(self, intermediate_dim, "intermediate",
                                              num_groups=num_groups)
        self.output_dense = dense_layer(self, hidden_dim, "output_dense", num_groups=num_groups)
        self.output_dropout = Dropout(dropout, dtype=policy, name="output_dropout")
        self.output_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=policy, name="output_layer_norm"
        )

    def build(self, input_shape):
        self.attention.build(input_shape)
        self.attention_output_dense.build((*input_shape[:-1], self.attention.output_dim))
        self.attention_layer_norm.build(input_shape)
        self.intermediate_dense.build(input_shape)
        self.output_dense.build((*input_shape[:-1], self.intermediate_dim))
        self.output_layer_norm.build(input_shape)

    def call(self, inputs, padding_mask=None, training=None, return_attention_scores=False):
        mixed, probs = self.attention(
            inputs, padding_mask=padding_mask, training=training, return_attention_scores=True
        )
        attended = self.attention_dropout(self.attention_output_dense(mixed), training=training)
        attended = self.attention_layer_norm(attended + inputs)
        hidden = gelu_exact(in_compute_dtype(self, self.intermediate_dense(attended)))
        hidden = self.output_dense(hidden)
        outputs = self.output_dropout(hidden, training=training)
        outputs = self.output_layer_norm(outputs + attended)
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
                "intermediate_dim": self.intermediate_dim,
                "head_ratio": self.head_ratio,
                "conv_kernel_size": self.conv_kernel_size,
                "num_groups": self.num_groups,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
