"""Grouped dense projection (ConvBERT's `GDense`, GroupBERT's grouped FFN matrix)."""

import keras
import numpy as np
from keras import ops

from convbert_tf.layers.initializers import clone_initializer
from convbert_tf.layers.validation import check_divisible, check_positive


def dense_layer(owner, units, name, num_groups=1):
    """The layers' one dense factory: `Dense(units)` (`GroupedDense` when `num_groups > 1`)
    with its own copy of `owner.kernel_initializer` and `owner`'s dtype policy.

    No activation: owners apply it to `in_compute_dtype(owner, dense(x))`, so it runs in the
    owner's dtype (float32 in the bf16 serving export, where only the matmul is bf16).

    Example:
    >>> self.query_dense = dense_layer(self, hidden_dim, "query")
    """
    initializer = clone_initializer(owner.kernel_initializer)
    if num_groups == 1:
        return keras.layers.Dense(units, kernel_initializer=initializer,
                                  dtype=owner.dtype_policy, name=name)
    return GroupedDense(units, num_groups, kernel_initializer=initializer,
                        dtype=owner.dtype_policy, name=name)


def in_compute_dtype(owner, x):
    """`x` (a sub-layer's output) cast to `owner`'s compute dtype; no op when they agree.

    A sub-layer may compute in another dtype than its owner: the bf16 serving export gives
    bfloat16 only to the layers that own a matmul kernel and keeps everything element-wise in
    float32 (`convbert_tf.export.precision.bf16_matmul_policy`). Keras casts a layer's inputs
    to its compute dtype, but an owner's own ops (`*`, `+`, activations) see the raw outputs,
    so owners cast them first.

    Example:
    >>> query = in_compute_dtype(self, self.query_dense(inputs))
    """
    return ops.cast(x, owner.compute_dtype)


def grouped_matmul(x, kernel):
    """Multiplies contiguous channel groups of `x` by their own block of `kernel`.

    Args:
        x: tensor `[..., G * in_per_group]`.
        kernel: tensor `[G, in_per_group, out_per_group]`.

    Returns:
        Tensor `[..., G * out_per_group]`; group g reads channels
        `[g * in_per_group, (g + 1) * in_per_group)` only.
    """
    groups, in_per_group, out_per_group = kernel.shape
    if groups == 1:
        return ops.matmul(x, kernel[0])
    leading = ops.shape(x)[:-1]
    # [N, G, i] -> [G, N, i] @ [G, i, o] -> [G, N, o]: a plain batched matmul. An einsum over
    # "...gi" leaves two unknown dims, which the TFLite converter cannot lower to builtins.
    flat = ops.reshape(x, (-1, groups, in_per_group))
    out = ops.matmul(ops.transpose(flat, (1, 0, 2)), kernel)
    out = ops.transpose(out, (1, 0, 2))
    return ops.reshape(out, (*leading, groups * out_per_group))


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupedDense(keras.layers.Layer):
    """Dense layer whose channels are split into `num_groups` independent groups.

    The kernel is `[num_groups, input_dim / num_groups, units / num_groups]` (the layout of
    ConvBERT's released `g_dense` weights) and the bias is `[units]`. Group `g` maps the
    contiguous input channels of group `g` to the contiguous output channels of group `g`;
    there is no mixing across groups. With `num_groups=1` it computes exactly `Dense(units)`.

    `quantize("int8")` (directly or through `Model.quantize("int8")`) stores the kernel as int8
    with one float scale per output channel (abs-max / 127, as `Dense`); calls then dequantize
    the kernel and multiply in the compute dtype (weight-only int8: a quarter of the kernel
    memory, activations unchanged). A quantized layer saves and loads like `Dense`'s.

    Args:
        units: output width; must be divisible by `num_groups`.
        num_groups: number of channel groups (`G`).
        activation: activation applied after the bias (any `keras.activations` identifier).
        use_bias: whether to add a `[units]` bias.
        kernel_initializer: initializer for the grouped kernel.
        bias_initializer: initializer for the bias.

    Example:
    >>> layer = GroupedDense(8, num_groups=2)
    >>> layer(np.ones((2, 3, 6), "float32")).shape
    (2, 3, 8)
    """

    def __init__(
        self,
        units,
        num_groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive(units=units, num_groups=num_groups)
        check_divisible("units", units, "num_groups", num_groups)
        self.units = units
        self.num_groups = num_groups
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"GroupedDense needs a known last dimension; got input_shape={input_shape}."
            )
        check_divisible("input last dimension", input_dim, "num_groups", self.num_groups)
        kernel_shape = (self.num_groups, input_dim // self.num_groups,
                        self.units // self.num_groups)
        if self.quantization_mode == "int8":  # a quantized layer being loaded
            self.int8_build(kernel_shape)
        else:
            self.kernel = self.add_weight(
                name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
            )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer
            )

    def call(self, inputs):
        return self.finish(grouped_matmul(inputs, self.kernel))

    def finish(self, outputs):
        """Bias and activation, after the grouped matmul."""
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs)

    # ------------------------------------------------------------ int8 quantization
    def int8_build(self, kernel_shape):
        """Creates the int8 kernel and its per-output-channel scale `[G, 1, units / G]`."""
        self.quantized_kernel = self.add_weight(
            name="kernel", shape=kernel_shape, initializer="zeros", dtype="int8",
            trainable=False,
        )
        self.kernel_scale = self.add_weight(
            name="kernel_scale", shape=(kernel_shape[0], 1, kernel_shape[2]),
            initializer="ones", trainable=False,
        )

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantizes the kernel in place; only `mode="int8"` is supported.

        Args:
            mode: `"int8"`.
            type_check: accepted for `Model.quantize`'s call (subclasses are quantized too).
            config: must be None or describe int8 (no custom quantizers are supported).
        """
        if mode != "int8":
            raise NotImplementedError(
                f"GroupedDense supports quantize('int8') only. Received: mode={mode!r}")
        kernel = ops.convert_to_numpy(self.kernel).astype("float32")
        # Abs-max per output channel (over the group's inputs), as Dense's AbsMaxQuantizer.
        scale = np.max(np.abs(kernel), axis=1, keepdims=True) / 127.0
        scale = np.where(scale > 0, scale, 1.0).astype("float32")
        values = np.clip(np.round(kernel / scale), -127, 127).astype("int8")
        del self.kernel  # Keras untracks a deleted variable
        self.int8_build(values.shape)
        self.quantized_kernel.assign(values)
        self.kernel_scale.assign(scale)
        self.dtype_policy = keras.dtype_policies.get(f"int8_from_{self.dtype_policy.name}")

    def quantized_call(self, inputs):
        if self.quantization_mode != "int8":
            raise NotImplementedError(
                f"GroupedDense has no {self.quantization_mode!r} quantization.")
        kernel = ops.multiply(ops.cast(self.quantized_kernel, self.compute_dtype),
                              ops.cast(self.kernel_scale, self.compute_dtype))
        return self.finish(grouped_matmul(inputs, kernel))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "num_groups": self.num_groups,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
