"""Fine-tuning: the official optimizer recipe (from `convbert_tf.optimizers`), GLUE metrics and
runner, tf.distribute helpers.

Modules are imported on first use so that `convbert_tf.training.fine_tuning_optimizer` does not
pull in the GLUE runner (and `tensorflow_datasets`).
"""

import importlib

_EXPORTS = {
    "fine_tuning_optimizer": "convbert_tf.optimizers.recipe",
    "Lamb": "convbert_tf.optimizers.lamb",
    "LayerwiseAdamW": "convbert_tf.optimizers.layerwise_adamw",
    "layerwise_lr_factor": "convbert_tf.optimizers.layerwise_adamw",
    "WarmupLinearDecay": "convbert_tf.optimizers.schedules",
    "MatthewsCorrelation": "convbert_tf.training.metrics",
    "BinaryF1Score": "convbert_tf.training.metrics",
    "PearsonCorrelation": "convbert_tf.training.metrics",
    "SpearmanCorrelation": "convbert_tf.training.callbacks",
    "spearman_correlation": "convbert_tf.training.callbacks",
    "create_strategy": "convbert_tf.training.distribute",
    "xla_compiled_train_functions": "convbert_tf.training.xla_check",
    "GLUE_TASKS": "convbert_tf.training.glue_data",
    "load_glue": "convbert_tf.training.glue_data",
    "run_glue": "convbert_tf.training.glue",
    "pretraining_dataset": "convbert_tf.training.pretraining_data",
    "find_text_files": "convbert_tf.training.pretraining_data",
    "squad_evaluate": "convbert_tf.training.squad_metrics",
    "exact_match_score": "convbert_tf.training.squad_metrics",
    "f1_score": "convbert_tf.training.squad_metrics",
    "normalize_answer": "convbert_tf.training.squad_metrics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'convbert_tf.training' has no attribute {name!r}")


def __dir__():
    return __all__
