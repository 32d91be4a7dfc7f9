"""What ConvBERT and GroupBERT backbones share: inputs and architecture presets."""

import keras
from keras_hub.models import Backbone

from convbert_tf.loaders import get_loader

HF_SCHEME = "hf://"


class _ClassProperty:
    def __init__(self, getter):
        self.getter = getter

    def __get__(self, instance, owner):
        return self.getter(owner)


def backbone_inputs():
    """The three int32 `[batch, seq]` inputs every backbone takes, keras-hub naming."""
    return {
        name: keras.Input(shape=(None,), dtype="int32", name=name)
        for name in ("token_ids", "segment_ids", "padding_mask")
    }


class PresetBackbone(Backbone):
    """A keras-hub `Backbone` that also knows built-in architecture presets.

    `from_preset(name)` accepts a built-in architecture name (`cls.presets`) with
    `load_weights=False`, a Hugging Face handle `hf://ORG/NAME` of a released checkpoint
    (converted on the fly by `convbert_tf.checkpoints.hf_hub`, reached through
    `convbert_tf.loaders`), and anything keras-hub
    accepts (a preset directory written by `save_to_preset` or `convbert-tf convert`).
    """

    architecture_presets = {}

    @_ClassProperty
    def presets(cls):  # noqa: N805 - a class property
        """Built-in architecture presets: name -> {"metadata", "config"}."""
        return dict(cls.architecture_presets)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Builds a backbone from a built-in architecture name or a preset directory.

        Args:
            preset: a name in `cls.presets`; `hf://ORG/NAME` (e.g.
                "hf://YituTech/conv-bert-base", "hf://Graphcore/groupbert-base-uncased"),
                fetched through huggingface_hub's cache (`HF_HUB_OFFLINE=1` works once
                cached) and converted without PyTorch; or a keras-hub preset directory.
            load_weights: must be False for built-in names (they ship no weights).
            **kwargs: config overrides, e.g. `dropout=0.0` or `dtype="bfloat16"`.

        Example:
        >>> backbone = ConvBertBackbone.from_preset("conv_bert_small_en", load_weights=False)
        >>> backbone = ConvBertBackbone.from_preset("hf://YituTech/conv-bert-small")
        """
        if isinstance(preset, str) and preset in cls.architecture_presets:
            if load_weights:
                raise ValueError(
                    f"Preset {preset!r} is an architecture only: no weights are bundled and "
                    "none can be downloaded here. Pass `load_weights=False` for random "
                    "weights, or convert a released checkpoint (`convbert-tf convert SRC DST`) "
                    "and pass the resulting directory."
                )
            return cls(**{**cls.architecture_presets[preset]["config"], **kwargs})
        if isinstance(preset, str) and preset.startswith(HF_SCHEME):
            # The class is checked before the weights are fetched and converted.
            preset = get_loader("hf_preset")(preset, expected_class=cls)
        return super().from_preset(preset, load_weights=load_weights, **kwargs)


def resolve_hf_preset(preset):
    """`hf://ORG/NAME` -> a local keras-hub preset directory (converted once, then cached);
    any other preset unchanged. For `from_preset` of backbones, tokenizers, preprocessors
    and tasks."""
    if isinstance(preset, str) and preset.startswith(HF_SCHEME):
        return get_loader("hf_preset")(preset)
    return preset


class HfPresetMixin:
    """Lets a keras-hub class's `from_preset` take `hf://ORG/NAME` handles of released
    checkpoints (put it first among the bases).

    Example:
    >>> ConvBertTextClassifier.from_preset("hf://YituTech/conv-bert-small", num_classes=2)
    """

    @classmethod
    def from_preset(cls, preset, **kwargs):
        return super().from_preset(resolve_hf_preset(preset), **kwargs)
