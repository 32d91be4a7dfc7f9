"""What the fine-tuning tasks share: XLA by default, also under `tf.distribute`.

Keras compiles the whole step, `strategy.run` included, when `jit_compile=True`. With
`MirroredStrategy` / `MultiWorkerMirroredStrategy` that fails (XLA cannot read the other
replicas' variables, nor run the cross-replica all-reduce inside the cluster), and Keras' "auto"
therefore turns XLA off under any strategy. Here, under those two strategies, the per-replica
forward and backward pass is compiled with XLA instead, and the gradient all-reduce, the
optimizer update and the metric updates run around it as ordinary TensorFlow ops. Everywhere
else (one device, TPUStrategy) Keras' own `jit_compile` is used unchanged.
"""

import keras
import tensorflow as tf

# The strategies whose replicas Keras cannot put in one XLA cluster.
_PER_REPLICA_XLA_STRATEGIES = (tf.distribute.MirroredStrategy,
                               tf.distribute.MultiWorkerMirroredStrategy)


def default_fine_tuning_optimizer(task, learning_rate=1e-4):
    """The recipe's AdamW (layer-wise decay 0.8, weight decay 0.01, eps 1e-6), constant rate.

    `compile()` cannot know the number of training steps, so there is no warmup/decay here; pass
    `convbert_tf.training.fine_tuning_optimizer(task, lr, num_train_steps)` for the full recipe.
    """
    # Imported here: training sits above tasks; its optimizer module imports nothing of ours.
    from convbert_tf.training.recipe import fine_tuning_optimizer

    return fine_tuning_optimizer(task, learning_rate, num_train_steps=None)


class XlaTaskMixin:
    """`compile(jit_compile=True)` by default, and XLA per replica under mirrored strategies.

    After `compile`, `xla_mode` is `"step"` (Keras compiles the whole train step),
    `"per_replica"` (forward + backward compiled, see the module docstring) or `None`.
    """

    def _compile_with_xla(self, jit_compile, **kwargs):
        """`compile(**kwargs)` with `jit_compile` applied as the module docstring describes."""
        per_replica = bool(jit_compile) and isinstance(
            self.distribute_strategy, _PER_REPLICA_XLA_STRATEGIES
        )
        self._xla_per_replica = per_replica
        self._xla_gradients_fn = None
        self.xla_mode = "per_replica" if per_replica else ("step" if jit_compile else None)
        super().compile(jit_compile=False if per_replica else jit_compile, **kwargs)
        # Saved with the model: what the user asked for, not what Keras was told.
        self._compile_config.config["jit_compile"] = jit_compile

    def compile_from_config(self, config):
        # Keras skips this for subclasses that override `compile()`; ours takes the same
        # arguments, so a `.keras` file restores the optimizer (and its state) and metrics.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds metrics from one batch, which under a strategy it first averages with
        # `strategy.reduce`; MultiWorkerMirroredStrategy's collective reduce rejects a dict of
        # per-replica values. Only shapes matter here, so take the first replica's batch.
        strategy = self._distribute_strategy
        if strategy is None or iterator is None or not isinstance(
            strategy, tf.distribute.MultiWorkerMirroredStrategy
        ):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda value: strategy.experimental_local_results(value)[0], next(batches)
            )
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def _loss_and_gradients(self, x, y, sample_weight):
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
            scaled_loss = self.optimizer.scale_loss(loss)
        return loss, y_pred, tape.gradient(scaled_loss, self.trainable_weights)

    @property
    def xla_gradients_function(self):
        """The per-replica `tf.function(jit_compile=True)` (only in `"per_replica"` mode)."""
        if self._xla_gradients_fn is None:
            self._xla_gradients_fn = tf.function(
                self._loss_and_gradients, jit_compile=True, reduce_retracing=True
            )
        return self._xla_gradients_fn

    def _reducible_logs(self, logs):
        # Keras reduces step results across MultiWorkerMirroredStrategy workers with
        # `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars: give them an axis
        # (the mean over it gives back the scalar).
        if isinstance(self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return {key: tf.reshape(value, [1]) for key, value in logs.items()}
        return logs

    def test_step(self, data):
        return self._reducible_logs(super().test_step(data))

    def train_step(self, data):
        if not getattr(self, "_xla_per_replica", False):
            return self._reducible_logs(super().train_step(data))
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        loss, y_pred, gradients = self.xla_gradients_function(x, y, sample_weight)
        # Keras divides each replica's loss by the replica count (so that the summed gradients
        # are the global mean's); the logged loss undoes that, as Keras' own train_step does.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch_size = tf.shape(tf.nest.flatten(x)[0])[0]
        self._loss_tracker.update_state(loss * tf.cast(replicas, loss.dtype),
                                        sample_weight=batch_size)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._reducible_logs(
            self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        )
