"""LAMB with the reference `exclude_from_layer_adaptation` (GroupBERT's pretraining optimizer)."""

import re

import keras
from keras import ops

from convbert_tf.optimizers.layerwise_adamw import (
    DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
    update_step_views,
)


@keras.saving.register_keras_serializable(package="convbert_tf")
class Lamb(keras.optimizers.Optimizer):
    """LAMB (You et al., 2019): Adam steps rescaled per variable by the trust ratio
    `||w|| / ||step||`, except for variables named in `exclude_from_layer_adaptation`.

    `keras.optimizers.Lamb` applies the trust ratio to every variable. A zero-initialised bias
    or LayerNorm `beta` then gets the ratio 1 only at its first step (its norm is 0), which
    falls in the warmup where the rate is tiny; from then on its step is proportional to its
    own ~1e-5 norm, so it stays frozen near zero for the whole run (measured: every bias and
    `beta` of a ConvBERT pretrained for 1,150 steps stayed below 2e-4). The LAMB used to
    pretrain BERT exempts those variables from layer adaptation, so they get the plain Adam
    step: NVIDIA apex's `FusedLAMB` adapts only variables with weight decay (`use_nvlamb=False`),
    and TF-Addons' `LAMB` defaults `exclude_from_layer_adaptation` to its weight-decay
    exclusions. This class does the same; with `exclude_from_layer_adaptation=()` it matches
    `keras.optimizers.Lamb` (`tests/training/test_lamb.py`).

    Weight decay is Keras' decoupled decay (`w -= learning_rate * weight_decay * w`, before
    the step, skipped for names given to `exclude_from_weight_decay`), as in
    `keras.optimizers.Lamb`; the reference LAMB adds it to the step before the trust ratio,
    which differs only in how the (small) decay term is scaled.

    Args:
        learning_rate: float or `LearningRateSchedule`.
        beta_1: decay of the first-moment estimate.
        beta_2: decay of the second-moment estimate.
        epsilon: added to the root of the second moment (1e-6 in the reference recipes).
        exclude_from_layer_adaptation: variable-name patterns (matched with `re.search`, as
            Keras matches `exclude_from_weight_decay`) that get the plain Adam step. Default:
            LayerNorm `gamma`/`beta` and every bias.
        **kwargs: the base optimizer's arguments (`weight_decay`, `clipnorm`, `name`...).

    Example:
    >>> optimizer = Lamb(2e-3, weight_decay=0.01)
    >>> optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    >>> model.compile(optimizer=optimizer, loss="mse")
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-6,
                 exclude_from_layer_adaptation=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY, name="lamb",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        if isinstance(exclude_from_layer_adaptation, str):
            raise TypeError("`exclude_from_layer_adaptation` must be a list of name patterns, "
                            f"got the string {exclude_from_layer_adaptation!r}; wrap it in a list.")
        self.exclude_from_layer_adaptation = list(exclude_from_layer_adaptation or ())
        self.slots = {}

    def adapts(self, variable):
        """Whether (Keras) `variable`'s step is rescaled by the trust ratio."""
        return not any(re.search(pattern, variable.name)
                       for pattern in self.exclude_from_layer_adaptation)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums, self.velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        # `update_step` receives the Keras variable, its backend variable or (under
        # `tf.distribute`) one replica's copy, depending on the backend: key the slot index and
        # the adaptation flag by each of them.
        for index, variable in enumerate(var_list):
            for obj in update_step_views(variable):
                self.slots[id(obj)] = (index, self.adapts(variable))

    def update_step(self, gradient, variable, learning_rate):
        if id(variable) not in self.slots:
            raise ValueError(f"Lamb was built for other variables than {variable.name!r}; "
                             "create a new optimizer for a new set of variables.")
        index, adapts = self.slots[id(variable)]
        m = self.momentums[index]
        v = self.velocities[index]
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, variable.dtype), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, variable.dtype), step)

        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        update = ops.divide(ops.divide(m, 1 - beta_1_power),
                            ops.add(ops.sqrt(ops.divide(v, 1 - beta_2_power)), self.epsilon))
        if adapts:
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            u_norm = ops.sqrt(ops.sum(ops.square(update)))
            # Ratio 1 where either norm is 0 (a zero variable, a zero step), as in the reference.
            ratio = ops.where(ops.logical_and(w_norm > 0, u_norm > 0),
                              ops.divide(w_norm, ops.maximum(u_norm, 1e-30)), 1.0)
            update = ops.multiply(update, ratio)
        self.assign_sub(variable, ops.multiply(learning_rate, update))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "exclude_from_layer_adaptation": list(self.exclude_from_layer_adaptation),
            }
        )
        return config
