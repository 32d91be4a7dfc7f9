"""The fine-tuning learning-rate schedule: linear warmup, then linear decay to zero."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="convbert_tf")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """`peak * min(1, step / warmup_steps) * max(0, 1 - step / total_steps)`.

    This is the ELECTRA / ConvBERT fine-tuning schedule: a linear (power 1) polynomial decay from
    `peak_learning_rate` to 0 over `total_steps`, multiplied by a linear warmup ramp. Keras has
    `PolynomialDecay` (no warmup) and `CosineDecay` (warmup, but cosine), not this product.

    Args:
        peak_learning_rate: the rate the warmup ramps towards.
        total_steps: steps after which the rate is 0 (usually `epochs * steps_per_epoch`).
        warmup_steps: length of the ramp (the recipe uses 10% of `total_steps`); 0: none.

    Example:
    >>> schedule = WarmupLinearDecay(1e-3, total_steps=100, warmup_steps=10)
    >>> float(schedule(5)), float(schedule(10)), float(schedule(100))
    (0.000475, 0.0009, 0.0)
    """

    def __init__(self, peak_learning_rate, total_steps, warmup_steps=0):
        if total_steps <= 0:
            raise ValueError(f"`total_steps` must be positive, got {total_steps}.")
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"`warmup_steps` must be in [0, total_steps={total_steps}], got {warmup_steps}."
            )
        self.peak_learning_rate = peak_learning_rate
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decay = ops.maximum(0.0, 1.0 - step / float(self.total_steps))
        warmup = 1.0
        if self.warmup_steps > 0:
            warmup = ops.minimum(1.0, step / float(self.warmup_steps))
        return self.peak_learning_rate * warmup * decay

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
        }
