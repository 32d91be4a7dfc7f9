"""convbert_tf: ConvBERT and GroupBERT as first-class Keras 3 citizens.

Layers (`convbert_tf.layers`) -> backbones (`convbert_tf.models`) -> preprocessing and tasks ->
training / export / CLI; imports only point down.

Public names are resolved lazily (PEP 562), so `import convbert_tf` and `convbert-tf --help`
do not pay for importing TensorFlow until a model, layer or tokenizer is used. Saved `.keras`
files still load with only `import convbert_tf` (in either order with `import keras`): Keras'
registry gets a stand-in for each class that imports the real one on use
(`convbert_tf.deferred_registration`).

This module is also the composition root: it registers the checkpoint loaders that models /
preprocessing / tasks call for `hf://` handles and checkpoint files (`convbert_tf.loaders`),
importing `convbert_tf.checkpoints` only when one is used.
"""

import importlib

from convbert_tf import deferred_registration as _deferred_registration
from convbert_tf import loaders as _loaders

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # backbones
    "ConvBertBackbone": "convbert_tf.models",
    "GroupBertBackbone": "convbert_tf.models",
    "load_backbone": "convbert_tf.models",
    # preprocessing
    "ConvBertTokenizer": "convbert_tf.preprocessing",
    "ConvBertTextClassifierPreprocessor": "convbert_tf.preprocessing",
    "ConvBertMaskedLMPreprocessor": "convbert_tf.preprocessing",
    "build_vocabulary": "convbert_tf.preprocessing",
    "ConvBertQuestionAnswererPreprocessor": "convbert_tf.preprocessing",
    "ConvBertTokenClassifierPreprocessor": "convbert_tf.preprocessing",
    "GroupBertTokenizer": "convbert_tf.preprocessing",
    "GroupBertTextClassifierPreprocessor": "convbert_tf.preprocessing",
    "GroupBertMaskedLMPreprocessor": "convbert_tf.preprocessing",
    "GroupBertQuestionAnswererPreprocessor": "convbert_tf.preprocessing",
    "GroupBertTokenClassifierPreprocessor": "convbert_tf.preprocessing",
    # tasks
    "ConvBertTextClassifier": "convbert_tf.tasks",
    "ConvBertTextRegressor": "convbert_tf.tasks",
    "ConvBertMaskedLM": "convbert_tf.tasks",
    "ConvBertElectraPretrainer": "convbert_tf.tasks",
    "ConvBertQuestionAnswerer": "convbert_tf.tasks",
    "ConvBertTokenClassifier": "convbert_tf.tasks",
    "GroupBertTextClassifier": "convbert_tf.tasks",
    "GroupBertTextRegressor": "convbert_tf.tasks",
    "GroupBertMaskedLM": "convbert_tf.tasks",
    "GroupBertQuestionAnswerer": "convbert_tf.tasks",
    "GroupBertTokenClassifier": "convbert_tf.tasks",
    # optimizers (training re-exports them)
    "fine_tuning_optimizer": "convbert_tf.optimizers",
    "Lamb": "convbert_tf.optimizers",
    "LayerwiseAdamW": "convbert_tf.optimizers",
    "WarmupLinearDecay": "convbert_tf.optimizers",
    # checkpoints
    "load_hf_checkpoint": "convbert_tf.checkpoints",
    "load_tf1_checkpoint": "convbert_tf.checkpoints",
    "convert_checkpoint": "convbert_tf.checkpoints",
    # export
    "export_saved_model": "convbert_tf.export",
    "export_tflite": "convbert_tf.export",
}

__all__ = sorted([*_EXPORTS, "__version__", "layers"])


def _hf_preset(handle, expected_class=None):
    hf_hub = importlib.import_module("convbert_tf.checkpoints.hf_hub")
    return hf_hub.hf_preset(handle, expected_class=expected_class)


def _load_checkpoint(path, dtype=None):
    return importlib.import_module("convbert_tf.checkpoints").load_checkpoint(path, dtype=dtype)


_loaders.register_loader("hf_preset", _hf_preset)
_loaders.register_loader("checkpoint", _load_checkpoint)
_deferred_registration.install()


def __getattr__(name):
    if name == "layers":
        return importlib.import_module("convbert_tf.layers")
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'convbert_tf' has no attribute {name!r}")


def __dir__():
    return __all__
