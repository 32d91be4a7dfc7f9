"""The optimizers: layer-wise-decay AdamW (fine-tuning), LAMB (pretraining), the warmup
schedule, and the fine-tuning recipe.

It sits below the tasks (whose `compile()` defaults to the recipe) and above the backbones
(whose variable paths it reads); `convbert_tf.training` re-exports it.
"""

from convbert_tf.optimizers.lamb import Lamb
from convbert_tf.optimizers.layerwise_adamw import (
    DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY,
    LayerwiseAdamW,
    layerwise_lr_factor,
)
from convbert_tf.optimizers.recipe import RECIPE_EPSILON, fine_tuning_optimizer
from convbert_tf.optimizers.schedules import WarmupLinearDecay

__all__ = [
    "DEFAULT_EXCLUDE_FROM_WEIGHT_DECAY",
    "Lamb",
    "LayerwiseAdamW",
    "RECIPE_EPSILON",
    "WarmupLinearDecay",
    "fine_tuning_optimizer",
    "layerwise_lr_factor",
]
