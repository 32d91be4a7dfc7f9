"""GroupBERT's encoder layer: four pre-LayerNorm residual modules."""

import keras

from convbert_tf.layers.dropout import Dropout
from convbert_tf.layers.groupbert_conv_module import GroupBertConvModule
from convbert_tf.layers.grouped_feed_forward import GroupedFeedForward
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.self_attention import SelfAttention
from convbert_tf.layers.validation import check_rate


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertLayer(keras.layers.Layer):
    """One GroupBERT layer, in the reference order:

        x = x + Dropout(ConvModule(LN_a(x), mask))
        x = x + Dropout(GroupedFFN_1(LN_b(x)))
        x = x + Dropout(SelfAttention(LN_c(x), mask))
        x = x + Dropout(GroupedFFN_2(LN_d(x)))

    No macaron 0.5 factor and no layer-scale, as in the reference.

    Args:
        hidden_dim: model width `d`.
        num_heads: attention heads.
        intermediate_dim: width `I` of both grouped FFNs (4d).
        num_groups: groups of the FFN down-projections (4).
        conv_kernel_size: odd width of the grouped convolution (7).
        conv_group_size: channels per convolution group (16).
        dropout: dropout of the residual branches (`hidden_dropout_prob`).
        attention_dropout: dropout of the attention probabilities
            (`attention_probs_dropout_prob`); None: `dropout`.
        layer_norm_epsilon: epsilon of every LayerNorm (the config's `layer_norm_eps`: 1e-12
            in the released checkpoint, 1e-3 in Graphcore's TF1 code).
        use_conv_bias: whether the grouped convolution has a bias (True: the released
            PyTorch model; False: the TF1 code).
        kernel_initializer: initializer of all projections (None: truncated normal, std 0.02).

    Call args:
        inputs: `[B, T, d]`; padding_mask: optional `[B, T]` of {0, 1}.

    Example:
    >>> layer = GroupBertLayer(hidden_dim=32, num_heads=2, intermediate_dim=128)
    >>> layer(np.ones((2, 5, 32), "float32")).shape
    (2, 5, 32)
    """

    def __init__(self, hidden_dim, num_heads, intermediate_dim, num_groups=4,
                 conv_kernel_size=7, conv_group_size=16, dropout=0.1, layer_norm_epsilon=1e-12,
                 kernel_initializer=None, attention_dropout=None, use_conv_bias=True, **kwargs):
        super().__init__(**kwargs)
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        check_rate("dropout", dropout)
        check_rate("attention_dropout", attention_dropout)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_groups = num_groups
        self.conv_kernel_size = conv_kernel_size
        self.conv_group_size = conv_group_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.use_conv_bias = use_conv_bias
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )
        policy = self.dtype_policy

        def init():
            return clone_initializer(self.kernel_initializer)

        self.conv = GroupBertConvModule(hidden_dim, conv_kernel_size, conv_group_size,
                                        layer_norm_epsilon, kernel_initializer=init(),
                                        use_conv_bias=use_conv_bias, dtype=policy,
                                        name="convolution")
        self.feed_forward_1 = GroupedFeedForward(hidden_dim, intermediate_dim, num_groups,
                                                 kernel_initializer=init(), dtype=policy,
                                                 name="feed_forward_1")
        self.attention = SelfAttention(hidden_dim, num_heads, attention_dropout,
                                       kernel_initializer=init(), dtype=policy,
                                       name="attention")
        self.feed_forward_2 = GroupedFeedForward(hidden_dim, intermediate_dim, num_groups,
                                                 kernel_initializer=init(), dtype=policy,
                                                 name="feed_forward_2")
        self.residual_modules = [
            self.conv, self.feed_forward_1, self.attention, self.feed_forward_2
        ]
        self.norms = [
            keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, dtype=policy,
                                            name=f"{m.name}_layer_norm")
            for m in self.residual_modules
        ]
        self.dropouts = [
            Dropout(dropout, dtype=policy, name=f"{m.name}_dropout")
            for m in self.residual_modules
        ]

    def build(self, input_shape):
        for module, norm in zip(self.residual_modules, self.norms):
            norm.build(input_shape)
            module.build(input_shape)

    def call(self, inputs, padding_mask=None, training=None):
        x = inputs
        for module, norm, dropout in zip(self.residual_modules, self.norms, self.dropouts):
            h = norm(x)
            if module is self.conv:
                h = module(h, padding_mask=padding_mask)
            elif module is self.attention:
                h = module(h, padding_mask=padding_mask, training=training)
            else:
                h = module(h)
            x = x + dropout(h, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "num_groups": self.num_groups,
                "conv_kernel_size": self.conv_kernel_size,
                "conv_group_size": self.conv_group_size,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "use_conv_bias": self.use_conv_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
