"""Saved `.keras` files load after a bare `import convbert_tf`, without importing TensorFlow early.

`keras.saving.load_model` finds a custom class only in Keras' registry (filled by
`@keras.saving.register_keras_serializable` when the defining module runs); it imports the
module recorded in a file only for `keras` / `keras_hub` packages. `convbert_tf` resolves its
public names lazily (importing TensorFlow costs seconds), so after `import convbert_tf` alone
the registry would not know `convbert_tf>ConvBertTextClassifier`.

So the registry gets a stand-in for every serializable class: a tiny class whose
`from_config` imports the real module (whose decorator then replaces the stand-in) and
delegates to the real class. Filling the registry needs `keras`; when `keras` is not imported
yet, a `sys.meta_path` finder waits for it and registers the stand-ins right after `keras`
finishes executing, without importing anything itself.
"""

import importlib
import importlib.abc
import sys

PACKAGE = "convbert_tf"

#: Every `@keras.saving.register_keras_serializable(package="convbert_tf")` class and the
#: module that defines it (`tests/test_deferred_registration.py` checks the list is complete).
SERIALIZABLE = {
    "BertEmbedding": "convbert_tf.layers.bert_embedding",
    "ConvBertLayer": "convbert_tf.layers.convbert_layer",
    "Dropout": "convbert_tf.layers.dropout",
    "GroupBertConvModule": "convbert_tf.layers.groupbert_conv_module",
    "GroupBertLayer": "convbert_tf.layers.groupbert_layer",
    "GroupedDense": "convbert_tf.layers.grouped_dense",
    "GroupedFeedForward": "convbert_tf.layers.grouped_feed_forward",
    "MixedAttention": "convbert_tf.layers.mixed_attention",
    "SelfAttention": "convbert_tf.layers.self_attention",
    "SpanDynamicConv": "convbert_tf.layers.span_dynamic_conv",
    "ConvBertBackbone": "convbert_tf.models.convbert_backbone",
    "GroupBertBackbone": "convbert_tf.models.groupbert_backbone",
    "ConvBertTokenizer": "convbert_tf.preprocessing.convbert_tokenizer",
    "ConvBertTextClassifierPreprocessor":
        "convbert_tf.preprocessing.text_classifier_preprocessor",
    "ConvBertMaskedLMPreprocessor": "convbert_tf.preprocessing.masked_lm_preprocessor",
    "ConvBertQuestionAnswererPreprocessor":
        "convbert_tf.preprocessing.question_answerer_preprocessor",
    "ConvBertTokenClassifierPreprocessor":
        "convbert_tf.preprocessing.token_classifier_preprocessor",
    "GroupBertTokenizer": "convbert_tf.preprocessing.groupbert_preprocessing",
    "GroupBertTextClassifierPreprocessor": "convbert_tf.preprocessing.groupbert_preprocessing",
    "GroupBertMaskedLMPreprocessor": "convbert_tf.preprocessing.groupbert_preprocessing",
    "GroupBertQuestionAnswererPreprocessor":
        "convbert_tf.preprocessing.groupbert_preprocessing",
    "GroupBertTokenClassifierPreprocessor": "convbert_tf.preprocessing.groupbert_preprocessing",
    "ConvBertTextClassifier": "convbert_tf.tasks.text_classifier",
    "ConvBertTextRegressor": "convbert_tf.tasks.text_regressor",
    "ConvBertMaskedLM": "convbert_tf.tasks.masked_lm",
    "ConvBertElectraPretrainer": "convbert_tf.tasks.electra_pretrainer",
    "ConvBertQuestionAnswerer": "convbert_tf.tasks.question_answerer",
    "ConvBertTokenClassifier": "convbert_tf.tasks.token_classifier",
    "GroupBertTextClassifier": "convbert_tf.tasks.groupbert_tasks",
    "GroupBertTextRegressor": "convbert_tf.tasks.groupbert_tasks",
    "GroupBertMaskedLM": "convbert_tf.tasks.groupbert_tasks",
    "GroupBertQuestionAnswerer": "convbert_tf.tasks.groupbert_tasks",
    "GroupBertTokenClassifier": "convbert_tf.tasks.groupbert_tasks",
    "Lamb": "convbert_tf.optimizers.lamb",
    "LayerwiseAdamW": "convbert_tf.optimizers.layerwise_adamw",
    "WarmupLinearDecay": "convbert_tf.optimizers.schedules",
    "MatthewsCorrelation": "convbert_tf.training.metrics",
    "BinaryF1Score": "convbert_tf.training.metrics",
    "PearsonCorrelation": "convbert_tf.training.metrics",
}


def stand_in(name, module):
    """A class that Keras can deserialize `name` through before `module` is imported."""

    def from_config(cls, config):
        real = getattr(importlib.import_module(module), name)
        return real.from_config(config)

    return type(name, (), {"__module__": module, "from_config": classmethod(from_config),
                           "__doc__": f"Stand-in for `{module}.{name}` (imported on use)."})


def register_stand_ins():
    """Puts a stand-in into Keras' registry for every class not registered yet."""
    import keras

    objects = keras.saving.get_custom_objects()
    for name, module in SERIALIZABLE.items():
        objects.setdefault(f"{PACKAGE}>{name}", stand_in(name, module))


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of top-level `keras` to register afterwards."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # once; the lookup below must not find this finder
        for finder in sys.meta_path:
            spec = finder.find_spec(fullname, path, target) \
                if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None \
                    and hasattr(spec.loader, "exec_module"):
                spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        register_stand_ins()

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self.loader, name)


def install():
    """Registers the stand-ins now if `keras` is imported, else right after it is."""
    if "keras" in sys.modules:
        register_stand_ins()
    elif not any(isinstance(f, _AfterKerasImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())
