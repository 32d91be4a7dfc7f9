"""`Dropout`: Keras' dropout, with a fast random-number generator on TensorFlow's XLA CPU path.

Every other modeling file uses `keras.ops` only. This one holds the single backend-specific
line of the modeling code, for a measured reason: Keras' TensorFlow backend draws dropout masks
with `tf.random.stateless_uniform`'s default algorithm ("auto_select"), which XLA's CPU backend
compiles into a generator ~100x slower than Philox (a `[64, 64, 512]` mask: 1,071 ms against
10.8 ms, `tests/layers/test_dropout.py` checks the op is Philox; `bench/pretraining_throughput.py`
measures the step). Under `jit_compile=True` that made dropout the largest cost of a training
step. Here the TensorFlow backend calls the public `tf.nn.experimental.stateless_dropout` with
`rng_alg="philox"`; every other backend runs `keras.layers.Dropout` unchanged.
"""

import keras


@keras.saving.register_keras_serializable(package="convbert_tf")
class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` with the same arguments and semantics.

    The mask is drawn from the layer's own `seed_generator` (so `keras.utils.set_random_seed`
    and the `seed` argument work as in Keras); only the generator algorithm differs on the
    TensorFlow backend (Philox instead of "auto_select", see the module docstring). Outputs are
    the inputs scaled by `1 / (1 - rate)` where kept and 0 where dropped, as in Keras.

    Args:
        rate: fraction of the inputs to drop, in [0, 1).
        noise_shape: optional shape of the binary mask (broadcast to the inputs).
        seed: optional int seed.

    Example:
    >>> layer = Dropout(0.5, seed=0)
    >>> layer(np.ones((2, 4), "float32"), training=True).shape
    (2, 4)
    """

    def call(self, inputs, training=False):
        if not (training and self.rate > 0) or keras.backend.backend() != "tensorflow":
            return super().call(inputs, training=training)
        import tensorflow as tf  # only reached on the TensorFlow backend

        seed = tf.cast(self.seed_generator.next(), "int32")
        return tf.nn.experimental.stateless_dropout(
            inputs, rate=self.rate, seed=seed, rng_alg="philox", noise_shape=self.noise_shape
        )
