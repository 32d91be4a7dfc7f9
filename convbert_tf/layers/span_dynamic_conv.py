"""ConvBERT's span-based dynamic convolution (Jiang et al., 2020, section 3.2)."""

import keras
from keras import ops

from convbert_tf.layers.grouped_dense import dense_layer, in_compute_dtype
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.validation import check_odd, check_positive


@keras.saving.register_keras_serializable(package="convbert_tf")
class SpanDynamicConv(keras.layers.Layer):
    """Span-based dynamic convolution: a per-token, per-head kernel generated from a span.

    For hidden states `x [B, T, D]` and the (shared) attention query `q [B, T, A]`, with
    `A = num_heads * head_dim`:

        key    = SeparableConv1D(A, kernel_size, padding="same")(x)   # span-aware key
        kernel = softmax(reshape(Dense(N*K)(key * q), [B, T, N, K]))  # one kernel per token/head
        value  = Dense(A)(x), zero-padded by (K-1)/2 on the time axis
        out[b, t, n] = sum_k kernel[b, t, n, k] * value[b, t + k - (K-1)/2, n]

    The last line is computed as a sum over K shifted slices of `value`, never as the
    `[B, T, A, K]` unfold tensor: the same numbers with K times less memory, and only
    static-shape slices, which XLA and TFLite handle well. The separable key convolution is
    computed the same way (see `separable_key_conv`); `key_conv` only holds its weights. As in
    the reference, the branch has no padding mask: padding positions leak into their
    neighbours, so inputs should be padded to a fixed length for reproducible outputs.

    Args:
        num_heads: number of convolution heads `N`.
        head_dim: channels per head `d`.
        kernel_size: odd span / kernel width `K` (9 in ConvBERT).
        kernel_initializer: initializer of the dense projections and pointwise kernel
            (None: truncated normal, std 0.02).

    Call args:
        inputs: hidden states `[B, T, D]`.
        query: the attention query `[B, T, N * d]` (with bias, unscaled).

    Returns:
        `[B, T, N * d]`, channel `n * d + h` for head `n`.

    Example:
    >>> conv = SpanDynamicConv(num_heads=2, head_dim=4, kernel_size=3)
    >>> x, q = np.ones((1, 5, 16), "float32"), np.ones((1, 5, 8), "float32")
    >>> conv(x, q).shape
    (1, 5, 8)
    """

    def __init__(self, num_heads, head_dim, kernel_size=9,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive(num_heads=num_heads, head_dim=head_dim)
        check_odd("kernel_size", kernel_size)
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.kernel_size = kernel_size
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )
        width = num_heads * head_dim
        self.key_conv = keras.layers.SeparableConv1D(
            filters=width,
            kernel_size=kernel_size,
            padding="same",
            # The reference initialises the depthwise taps with std 1/K.
            depthwise_initializer=truncated_normal(1.0 / kernel_size),
            pointwise_initializer=clone_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="key_conv_attn_layer",
        )
        self.kernel_dense = dense_layer(self, num_heads * kernel_size, "conv_kernel_layer")
        self.value_dense = dense_layer(self, width, "conv_out_layer")

    def build(self, inputs_shape, query_shape=None):
        self.key_conv.build(inputs_shape)
        self.value_dense.build(inputs_shape)
        self.kernel_dense.build((*inputs_shape[:-1], self.num_heads * self.head_dim))

    def separable_key_conv(self, inputs):
        """`key_conv(inputs)` as K shifted multiply-adds, then one matmul, then the bias.

        Equal to `SeparableConv1D(padding="same")` with the same weights (depthwise taps, then
        the pointwise `[D, A]` matrix, then the bias), but XLA's CPU depthwise convolution (and
        its gradient) runs ~5x slower than its FLOPs warrant; this form fuses the taps into one
        element-wise loop and makes the pointwise part a plain matmul. The taps run in this
        layer's compute dtype, the matmul in `key_conv`'s (they differ in the bf16 serving
        export, which gives bf16 to matmuls only).
        """
        k = self.kernel_size
        half = (k - 1) // 2
        matmul_dtype = self.key_conv.compute_dtype
        depthwise = ops.cast(self.key_conv.depthwise_kernel, self.compute_dtype)  # [K, D, 1]
        pointwise = ops.cast(self.key_conv.pointwise_kernel, matmul_dtype)  # [1, D, A]
        padded = ops.pad(inputs, ((0, 0), (half, half), (0, 0)))
        taps = None
        for tap in range(k):
            stop = tap - (k - 1) or None
            term = padded[:, tap:stop] * depthwise[tap, :, 0]
            taps = term if taps is None else taps + term
        key = ops.matmul(ops.cast(taps, matmul_dtype), pointwise[0])
        return ops.cast(key, self.compute_dtype) + ops.cast(self.key_conv.bias, self.compute_dtype)

    def call(self, inputs, query):
        n, d, k = self.num_heads, self.head_dim, self.kernel_size
        seq_len = ops.shape(inputs)[1]
        span = self.separable_key_conv(inputs) * query
        logits = ops.reshape(self.kernel_dense(span), (-1, seq_len, n, k))
        kernel = ops.cast(ops.softmax(ops.cast(logits, "float32"), axis=-1), self.compute_dtype)

        half = (k - 1) // 2
        # Pad AFTER the projection: the padded taps are zeros, not the projection's bias.
        value = ops.pad(in_compute_dtype(self, self.value_dense(inputs)),
                        ((0, 0), (half, half), (0, 0)))
        value = ops.reshape(value, (-1, ops.shape(value)[1], n, d))
        output = None
        for tap in range(k):
            # Tap `tap` reads position t + tap - half; the stop index is static (negative).
            stop = tap - (k - 1) or None
            term = kernel[:, :, :, tap : tap + 1] * value[:, tap:stop]
            output = term if output is None else output + term
        return ops.reshape(output, (-1, seq_len, n * d))

    def compute_output_shape(self, inputs_shape, query_shape=None):
        return (*inputs_shape[:-1], self.num_heads * self.head_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "head_dim": self.head_dim,
                "kernel_size": self.kernel_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
