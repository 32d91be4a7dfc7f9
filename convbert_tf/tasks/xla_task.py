"""What the fine-tuning tasks share: XLA by default, on every backend and under `tf.distribute`.

On JAX (and PyTorch) `compile(jit_compile=True)` is passed to Keras unchanged: Keras compiles
the whole train step. On TensorFlow the same holds on one device and under TPUStrategy. With
`MirroredStrategy` / `MultiWorkerMirroredStrategy`, though, compiling the whole step (which
contains `strategy.run`) fails: XLA cannot read the other replicas' variables, nor run the
cross-replica all-reduce inside the cluster, and Keras' "auto" therefore turns XLA off under
any strategy. Under those two strategies the per-replica forward and backward pass is compiled
with XLA instead (a public `train_step` override), and the gradient all-reduce, the optimizer
update and the metric updates run around it as ordinary TensorFlow ops.
"""

import keras

from convbert_tf.internals import MultiWorkerSymbolicBuild
from convbert_tf.optimizers import fine_tuning_optimizer


def default_fine_tuning_optimizer(task, learning_rate=1e-4):
    """The recipe's AdamW (layer-wise decay 0.8, weight decay 0.01, eps 1e-6), constant rate.

    `compile()` cannot know the number of training steps, so there is no warmup/decay here; pass
    `convbert_tf.optimizers.fine_tuning_optimizer(task, lr, num_train_steps)` for the full
    recipe.
    """
    return fine_tuning_optimizer(task, learning_rate, num_train_steps=None)


def _per_replica_strategy(model):
    """The model's strategy when it is one whose replicas XLA cannot hold in one cluster."""
    if keras.config.backend() != "tensorflow":
        return None
    import tensorflow as tf  # the only backend with `tf.distribute` strategies

    strategy = model.distribute_strategy
    if isinstance(strategy, (tf.distribute.MirroredStrategy,
                             tf.distribute.MultiWorkerMirroredStrategy)):
        return strategy
    return None


def _is_multi_worker(model):
    if keras.config.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return isinstance(model.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy)


class XlaTaskMixin(MultiWorkerSymbolicBuild):
    """`compile(jit_compile=True)` by default, and XLA per replica under mirrored strategies.

    After `compile`, `xla_mode` is `"step"` (Keras compiles the whole train step),
    `"per_replica"` (forward + backward compiled, see the module docstring) or `None`;
    `xla_gradients_function` is the per-replica `tf.function` once `fit` has traced it.
    """

    xla_mode = None
    xla_gradients_function = None
    requested_jit_compile = None

    def _compile_with_xla(self, jit_compile, **kwargs):
        """`compile(**kwargs)` with `jit_compile` applied as the module docstring describes."""
        per_replica = bool(jit_compile) and _per_replica_strategy(self) is not None
        self.xla_mode = "per_replica" if per_replica else ("step" if jit_compile else None)
        self.xla_gradients_function = None
        self.requested_jit_compile = jit_compile
        super().compile(jit_compile=False if per_replica else jit_compile, **kwargs)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config and self.requested_jit_compile is not None:
            # Saved with the model: what the user asked for, not what Keras was told.
            config["jit_compile"] = self.requested_jit_compile
        return config

    def compile_from_config(self, config):
        # Keras skips this for subclasses that override `compile()`; ours takes the same
        # arguments, so a `.keras` file restores the optimizer (and its state) and metrics.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def loss_and_gradients(self, x, y, sample_weight):
        """One replica's forward and backward pass: `(loss, y_pred, gradients)` (TensorFlow)."""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            scaled_loss = self.optimizer.scale_loss(loss)
        return loss, y_pred, tape.gradient(scaled_loss, self.trainable_weights)

    def _reducible_logs(self, logs):
        # Keras reduces step results across MultiWorkerMirroredStrategy workers with
        # `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars: give them an axis
        # (the mean over it gives back the scalar).
        if _is_multi_worker(self):
            return {key: keras.ops.reshape(value, [1]) for key, value in logs.items()}
        return logs

    # JAX's (and PyTorch's) steps take `(state, data)`: only TensorFlow's are changed here.
    def test_step(self, *args):
        if keras.config.backend() != "tensorflow":
            return super().test_step(*args)
        return self._reducible_logs(super().test_step(*args))

    def train_step(self, *args):
        if keras.config.backend() != "tensorflow":
            return super().train_step(*args)
        if self.xla_mode != "per_replica":
            return self._reducible_logs(super().train_step(*args))
        import tensorflow as tf

        (data,) = args

        if self.xla_gradients_function is None:
            self.xla_gradients_function = tf.function(
                self.loss_and_gradients, jit_compile=True, reduce_retracing=True
            )
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss, y_pred, gradients = self.xla_gradients_function(x, y, sample_weight)
        # Keras divides each replica's loss by the replica count (so that the summed gradients
        # are the global mean's); the logged loss undoes that, as Keras' own train_step does.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch_size = tf.shape(tf.nest.flatten(x)[0])[0]
        self.loss_tracker.update_state(loss * tf.cast(replicas, loss.dtype),
                                       sample_weight=batch_size)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._reducible_logs(
            self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        )

    @property
    def loss_tracker(self):
        """The `Mean` metric Keras logs as `"loss"` (found in the public `metrics` list)."""
        for metric in self.metrics:
            if metric.name == "loss":
                return metric
        raise RuntimeError("`compile()` the task before training: it has no loss metric.")
