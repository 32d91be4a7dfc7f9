"""AdamW with layer-wise learning-rate decay (ELECTRA / ConvBERT fine-tuning)."""

import re

import keras
from keras import ops


def update_step_views(variable):
    """`variable` and what Keras' TensorFlow optimizer passes to `update_step` in its place.

    There, `update_step` gets `variable.value` (the `tf.Variable`), and under a
    `tf.distribute` strategy each replica's component of it (`experimental_local_results`).
    """
    views = [variable]
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf  # only on that backend; the optimizer is backend-agnostic

        value = variable.value
        views.append(value)
        views.extend(tf.distribute.get_strategy().experimental_local_results(value))
    return views

# Variable paths of the backbones: `embeddings/...`, `embeddings_project/...`,
# `transformer_layer_{i}/...`; anything else (the task head, GroupBERT's final LayerNorm and
# pooler) is "above" the encoder.
_LAYER_PATTERN = re.compile(r"(?:^|/)transformer_layer_(\d+)/")
_EMBEDDING_PATTERN = re.compile(r"(?:^|/)embeddings(?:_project)?/")

# LayerNorm gamma/beta and every bias: the official recipe decays only kernels and embeddings.
DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY = ("gamma", "beta", "bias")


def layerwise_lr_factor(path, num_layers, layerwise_decay):
    """The learning-rate multiplier of the variable at `path`, as in ELECTRA's `_get_layer_lrs`.

    With `L = num_layers` and `d = layerwise_decay`, depths are: embeddings 0, layer `i`
    (0-based) `i + 1`, task head `L + 2`; the factor is `d ** (L + 2 - depth)`. So the head gets
    1, the top layer `d**2`, layer `i` `d**(L + 1 - i)` and the embeddings (and
    `embeddings_project`) `d**(L + 2)`. The skipped depth `L + 1` is in the reference code too
    (it kept a slot for BERT's pooler). Unmatched variables get 1, like the head.
    """
    match = _LAYER_PATTERN.search(path)
    if match:
        depth = int(match.group(1)) + 1
    elif _EMBEDDING_PATTERN.search(path):
        depth = 0
    else:
        return 1.0
    return float(layerwise_decay) ** (num_layers + 2 - depth)


@keras.saving.register_keras_serializable(package="convbert_tf")
class LayerwiseAdamW(keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` whose step size shrinks by `layerwise_decay` per layer downwards.

    Each variable's learning rate (the Adam step *and* the decoupled weight decay, as in the
    reference `AdamWeightDecayOptimizer`) is the schedule's value times
    `layerwise_lr_factor(variable.path, num_layers, layerwise_decay)`. Scaling the gradients
    instead would be a no-op for Adam (its update is invariant to gradient scale), which is why
    the rate is scaled. Variables whose *name* matches `exclude_from_weight_decay` (default: every
    LayerNorm `gamma`/`beta` and bias, matched with `re.search` as Keras does) are not decayed;
    this list is part of the config, so it survives `.keras` saving.

    Keras' own weight decay uses the *global* rate, so every variable is excluded from it
    (`exclude_from_weight_decay(var_list=...)` at build) and the decay happens in
    `update_step`, per variable, at that variable's rate.

    Args:
        learning_rate: float or `LearningRateSchedule` (e.g. `WarmupLinearDecay`).
        num_layers: the backbone's `num_layers`.
        layerwise_decay: per-layer multiplier (0.8); 1.0 turns the decay off.
        weight_decay: decoupled weight decay (0.01).
        exclude_from_weight_decay: variable-name patterns exempt from weight decay.
        **kwargs: the rest of `AdamW`'s arguments (`beta_1`, `epsilon`, `clipnorm`...).

    Example:
    >>> optimizer = LayerwiseAdamW(1e-3, num_layers=2, layerwise_decay=0.8, epsilon=1e-6)
    >>> model.compile(optimizer=optimizer, loss="mse")
    """

    def __init__(self, learning_rate=0.001, num_layers=12, layerwise_decay=0.8,
                 weight_decay=0.01, exclude_from_weight_decay=DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.num_layers = int(num_layers)
        self.layerwise_decay = float(layerwise_decay)
        self.exclude_from_weight_decay_names = list(exclude_from_weight_decay or ())
        self.variable_factors = {}

    def lr_factor(self, variable):
        """The multiplier applied to (Keras) `variable`'s learning rate."""
        return layerwise_lr_factor(variable.path, self.num_layers, self.layerwise_decay)

    def decays(self, variable):
        """Whether (Keras) `variable` gets the decoupled weight decay."""
        if not self.weight_decay:
            return False
        return not any(re.search(name, variable.name)
                       for name in self.exclude_from_weight_decay_names)

    def build(self, var_list):
        # `update_step` receives, depending on the backend, the Keras variable, its backend
        # variable, or (under `tf.distribute`) one replica's copy of it, none of which but the
        # first has a Keras path: key the (factor, decays) pair by every one of those objects.
        for variable in var_list:
            entry = (self.lr_factor(variable), self.decays(variable))
            for obj in update_step_views(variable):
                self.variable_factors[id(obj)] = entry
        # Keras' decay would use the global rate before `update_step`: ours replaces it.
        self.exclude_from_weight_decay(var_list=var_list)
        super().build(var_list)

    def update_step(self, gradient, variable, learning_rate):
        entry = self.variable_factors.get(id(variable))
        if entry is None:  # a Keras variable this optimizer was not built with
            entry = (self.lr_factor(variable), self.decays(variable))
        factor, decays = entry
        learning_rate = ops.cast(learning_rate, variable.dtype) * factor
        if decays:
            weight_decay = ops.cast(self.weight_decay, variable.dtype)
            # Decoupled decay on the pre-update value, where Keras' AdamW applies it.
            self.assign_sub(variable, variable * weight_decay * learning_rate)
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_layers": self.num_layers,
                "layerwise_decay": self.layerwise_decay,
                "exclude_from_weight_decay": list(self.exclude_from_weight_decay_names),
            }
        )
        return config
