"""GroupBERT's convolution module (Chelombiev et al., 2021, section 3.1)."""

import keras
from keras import ops

from convbert_tf.layers.grouped_dense import dense_layer, in_compute_dtype
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.validation import check_divisible, check_odd, check_positive


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertConvModule(keras.layers.Layer):
    """GLU -> mask -> grouped convolution over time -> LayerNorm -> swish -> projection.

        h = (x Wv + bv) * sigmoid(x Wg + bg)                  # GLU
        h = h * padding_mask                                  # padding never leaks in
        h[t, g] = sum_j h[t + j - (k-1)/2, g] @ K[j, g] + c[g] # grouped conv (+ bias)
        out = swish(LayerNorm(h)) Wo + bo

    The convolution bias `c` is in the released PyTorch model (`nn.Conv1d`'s default) and not
    in Graphcore's TF1 code: `use_conv_bias=False` expresses the latter.

    The grouped convolution is computed as k shifted slices times per-group matrices (one
    batched matmul per tap). TensorFlow's grouped `Conv1D` has a history of CPU failures and no
    TFLite kernel; this form is portable and exact. The pre-LayerNorm, dropout and residual
    belong to `GroupBertLayer`.

    Args:
        hidden_dim: model width `d`; divisible by `group_size`.
        kernel_size: odd temporal width `k` (7).
        group_size: channels per convolution group (16, so `d / 16` groups).
        layer_norm_epsilon: epsilon of the inner LayerNorm (the config's `layer_norm_eps`:
            1e-12 in the released checkpoint, 1e-3 in the TF1 code).
        use_conv_bias: add the `[d]` convolution bias (True: the released model).
        kernel_initializer: initializer of all kernels (None: truncated normal, std 0.02).

    Call args:
        inputs: `[B, T, d]`.
        padding_mask: optional `[B, T]` of {0, 1}.

    Example:
    >>> module = GroupBertConvModule(hidden_dim=32, kernel_size=3, group_size=16)
    >>> module(np.ones((2, 5, 32), "float32")).shape
    (2, 5, 32)
    """

    def __init__(self, hidden_dim, kernel_size=7, group_size=16, layer_norm_epsilon=1e-12,
                 kernel_initializer=None, use_conv_bias=True, **kwargs):
        super().__init__(**kwargs)
        check_positive(hidden_dim=hidden_dim, group_size=group_size)
        check_odd("kernel_size", kernel_size)
        check_divisible("hidden_dim", hidden_dim, "group_size", group_size)
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.group_size = group_size
        self.layer_norm_epsilon = layer_norm_epsilon
        self.use_conv_bias = use_conv_bias
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )
        self.num_groups = hidden_dim // group_size
        # One [d, 2d] projection, as the reference stores it: gates first, then values.
        self.glu_dense = dense_layer(self, 2 * hidden_dim, "glu")
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="conv_layer_norm"
        )
        self.output_dense = dense_layer(self, hidden_dim, "conv_output")

    def build(self, input_shape):
        self.glu_dense.build(input_shape)
        self.conv_kernel = self.add_weight(
            name="conv_kernel",
            shape=(self.kernel_size, self.num_groups, self.group_size, self.group_size),
            initializer=clone_initializer(self.kernel_initializer),
        )
        self.conv_bias = None
        if self.use_conv_bias:
            self.conv_bias = self.add_weight(name="conv_bias", shape=(self.hidden_dim,),
                                             initializer="zeros")
        self.layer_norm.build(input_shape)
        self.output_dense.build(input_shape)

    def grouped_conv(self, h):
        """Grouped 'same' convolution of `h [B, T, d]` with `conv_kernel [k, G, gs, gs]`
        (plus `conv_bias` when there is one)."""
        k, groups, size = self.kernel_size, self.num_groups, self.group_size
        seq_len = ops.shape(h)[1]
        half = (k - 1) // 2
        padded = ops.pad(h, ((0, 0), (half, half), (0, 0)))
        # [B, T+2h, G, gs] -> [G, B, T+2h, gs]: one transpose in, one out, k batched matmuls.
        padded = ops.transpose(ops.reshape(padded, (-1, ops.shape(padded)[1], groups, size)),
                               (2, 0, 1, 3))
        kernel = ops.cast(self.conv_kernel, self.compute_dtype)
        output = None
        for tap in range(k):
            stop = tap - (k - 1) or None
            window = ops.reshape(padded[:, :, tap:stop], (groups, -1, size))
            term = ops.matmul(window, kernel[tap])
            output = term if output is None else output + term
        output = ops.reshape(output, (groups, -1, seq_len, size))
        output = ops.reshape(ops.transpose(output, (1, 2, 0, 3)), (-1, seq_len, groups * size))
        if self.conv_bias is not None:
            output = output + ops.cast(self.conv_bias, self.compute_dtype)
        return output

    def call(self, inputs, padding_mask=None):
        gates, values = ops.split(in_compute_dtype(self, self.glu_dense(inputs)), 2, axis=-1)
        h = values * ops.sigmoid(gates)
        if padding_mask is not None:
            h = h * ops.expand_dims(ops.cast(padding_mask, h.dtype), -1)
        h = self.layer_norm(self.grouped_conv(h))
        return self.output_dense(ops.silu(h))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "kernel_size": self.kernel_size,
                "group_size": self.group_size,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "use_conv_bias": self.use_conv_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
