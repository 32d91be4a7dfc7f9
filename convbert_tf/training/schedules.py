"""Moved to `convbert_tf.optimizers.schedules` (below the tasks, which use it); kept so that old
imports and `.keras` files that name this module keep working."""

from convbert_tf.optimizers.schedules import WarmupLinearDecay  # noqa: F401
