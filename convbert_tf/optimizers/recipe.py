"""The official ConvBERT fine-tuning optimizer in one call."""

from convbert_tf.optimizers.layerwise_adamw import LayerwiseAdamW
from convbert_tf.optimizers.schedules import WarmupLinearDecay

# AdamW epsilon of the reference `AdamWeightDecayOptimizer` (Keras' default is 1e-7).
RECIPE_EPSILON = 1e-6


def _num_layers(backbone_or_model):
    backbone = getattr(backbone_or_model, "backbone", None) or backbone_or_model
    num_layers = getattr(backbone, "num_layers", None)
    if num_layers is None:
        raise TypeError(
            "`backbone_or_model` must be a backbone with `num_layers` (ConvBertBackbone, "
            f"GroupBertBackbone) or a task holding one; got {type(backbone_or_model).__name__}."
        )
    return int(num_layers)


def fine_tuning_optimizer(backbone_or_model, learning_rate, num_train_steps=None,
                          warmup_ratio=0.1, layerwise_decay=0.8, weight_decay=0.01, **kwargs):
    """The ConvBERT / ELECTRA fine-tuning optimizer.

    AdamW (weight decay 0.01 except on LayerNorm and biases, epsilon 1e-6), a learning rate that
    warms up linearly over `warmup_ratio * num_train_steps` steps and then decays linearly to 0 at
    `num_train_steps`, and layer-wise decay (`LayerwiseAdamW`). Everything is a registered Keras
    object, so the optimizer's config round-trips through `.keras` files.

    Args:
        backbone_or_model: a backbone, or a task with `.backbone` (for `num_layers`).
        learning_rate: peak learning rate (spec: 3e-4 small / medium-small, 1e-4 base).
        num_train_steps: total optimizer steps; `None` keeps `learning_rate` constant.
        warmup_ratio: fraction of the steps spent warming up (0.1).
        layerwise_decay: per-layer learning-rate multiplier (0.8; 1.0 disables).
        weight_decay: decoupled weight decay (0.01).
        **kwargs: forwarded to `LayerwiseAdamW` (e.g. `clipnorm`).

    Example:
    >>> optimizer = fine_tuning_optimizer(classifier, 3e-4, num_train_steps=3 * 2105)
    >>> classifier.compile(optimizer=optimizer)
    """
    num_layers = _num_layers(backbone_or_model)
    schedule = learning_rate
    if num_train_steps is not None:
        if num_train_steps <= 0:
            raise ValueError(f"`num_train_steps` must be positive, got {num_train_steps}.")
        if not 0.0 <= warmup_ratio <= 1.0:
            raise ValueError(f"`warmup_ratio` must be in [0, 1], got {warmup_ratio}.")
        schedule = WarmupLinearDecay(
            learning_rate, total_steps=num_train_steps,
            warmup_steps=int(round(warmup_ratio * num_train_steps)),
        )
    kwargs.setdefault("epsilon", RECIPE_EPSILON)
    return LayerwiseAdamW(
        learning_rate=schedule, num_layers=num_layers, layerwise_decay=layerwise_decay,
        weight_decay=weight_decay, **kwargs,
    )
