"""AdamW with layer-wise learning-rate decay (ELECTRA / ConvBERT fine-tuning)."""

import re

import keras
from keras import ops

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
    LayerNorm `gamma`/`beta` and bias) are not decayed; unlike Keras' method of the same name,
    this list is part of the config, so it survives `.keras` saving.

    Args:
        learning_rate: float or `LearningRateSchedule` (e.g. `WarmupLinearDecay`).
        num_layers: the backbone's `num_layers`.
        layerwise_decay: per-layer multiplier (0.8); 1.0 turns the decay off.
        weight_decay: decoupled weight decay (0.01).
        exclude_from_weight_decay: variable-name substrings exempt from weight decay.
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
        if self.exclude_from_weight_decay_names:
            self.exclude_from_weight_decay(var_names=self.exclude_from_weight_decay_names)

    def lr_factor(self, variable):
        """The multiplier applied to (Keras) `variable`'s learning rate."""
        return layerwise_lr_factor(variable.path, self.num_layers, self.layerwise_decay)

    def build(self, var_list):
        # `update_step` may receive the backend's variable (or one replica's copy of it), which
        # has no Keras path: look factors and decay flags up by the optimizer's variable key.
        self._lr_factors = {self._var_key(v): self.lr_factor(v) for v in var_list}
        self._decay_flags = {
            self._var_key(v): self.weight_decay is not None and self._use_weight_decay(v)
            for v in var_list
        }
        super().build(var_list)

    def _apply_weight_decay(self, variables):
        # Keras decays every variable with the *global* rate before the update; the reference
        # uses the layer's rate, so the decay moves into `update_step` below.
        return

    def update_step(self, gradient, variable, learning_rate):
        key = self._var_key(variable)
        learning_rate = ops.cast(learning_rate, variable.dtype) * self._lr_factors[key]
        if self._decay_flags[key]:
            weight_decay = ops.cast(self.weight_decay, variable.dtype)
            # Decoupled decay on the pre-update value, exactly where Keras applies it.
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
