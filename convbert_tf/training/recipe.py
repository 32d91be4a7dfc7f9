"""Moved to `convbert_tf.optimizers.recipe` (below the tasks, which use it); kept so that old
imports and `.keras` files that name this module keep working."""

from convbert_tf.optimizers.recipe import RECIPE_EPSILON, fine_tuning_optimizer  # noqa: F401
