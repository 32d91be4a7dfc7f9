"""Moved to `convbert_tf.optimizers.layerwise_adamw` (below the tasks, which use it); kept so that old
imports and `.keras` files that name this module keep working."""

from convbert_tf.optimizers.layerwise_adamw import (  # noqa: F401
    DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
    LayerwiseAdamW,
    layerwise_lr_factor,
)
