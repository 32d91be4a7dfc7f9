"""GroupBERT's grouped feed-forward module (dense up, grouped down, dense mixer)."""

import keras

from convbert_tf.layers.activations import gelu_exact
from convbert_tf.layers.grouped_dense import GroupedDense, dense_layer, in_compute_dtype
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.validation import check_divisible, check_positive


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupedFeedForward(keras.layers.Layer):
    """`Dense(I, gelu) -> GroupedDense(d, G) -> Dense(d)`.

    Only the down-projection is grouped (it holds the parameter savings); the final dense
    "mixer" restores communication between the groups. Compare ConvBERT's FFN, which groups
    both matrices and never mixes.

    Args:
        hidden_dim: model width `d`; divisible by `num_groups`.
        intermediate_dim: FFN width `I`; divisible by `num_groups`.
        num_groups: groups of the down-projection (4 in GroupBERT).
        kernel_initializer: initializer of the three projections (None: truncated
            normal, std 0.02).

    Example:
    >>> ffn = GroupedFeedForward(hidden_dim=16, intermediate_dim=64, num_groups=4)
    >>> ffn(np.ones((2, 5, 16), "float32")).shape
    (2, 5, 16)
    """

    def __init__(self, hidden_dim, intermediate_dim, num_groups=4,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive(hidden_dim=hidden_dim, intermediate_dim=intermediate_dim,
                       num_groups=num_groups)
        check_divisible("hidden_dim", hidden_dim, "num_groups", num_groups)
        check_divisible("intermediate_dim", intermediate_dim, "num_groups", num_groups)
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.num_groups = num_groups
        # None: BERT's truncated normal, std 0.02.
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or truncated_normal(0.02)
        )
        policy = self.dtype_policy
        # GELU is applied in `call`, in this layer's compute dtype, not inside the dense.
        self.up_dense = dense_layer(self, intermediate_dim, "up")
        # Always a GroupedDense (its weights' layout), even with one group.
        self.down_dense = GroupedDense(
            hidden_dim, num_groups,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            dtype=policy, name="grouped_down",
        )
        self.mixer_dense = dense_layer(self, hidden_dim, "mixer")

    def build(self, input_shape):
        self.up_dense.build(input_shape)
        self.down_dense.build((*input_shape[:-1], self.intermediate_dim))
        self.mixer_dense.build(input_shape)

    def call(self, inputs):
        hidden = gelu_exact(in_compute_dtype(self, self.up_dense(inputs)))
        return self.mixer_dense(self.down_dense(hidden))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "num_groups": self.num_groups,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
