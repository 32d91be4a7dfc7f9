"""`load_backbone(path_or_handle)`: one entry point for every place a backbone comes from."""

import os

from convbert_tf.loaders import get_loader
from convbert_tf.models.convbert_backbone import ConvBertBackbone
from convbert_tf.models.groupbert_backbone import GroupBertBackbone
from convbert_tf.models.preset_backbone import HF_SCHEME, PresetBackbone

KAGGLE_SCHEME = "kaggle://"
ACCEPTED_FORMS = (
    "a built-in architecture preset name (random weights): {names}",
    "a keras-hub preset directory (config.json + metadata.json, from `save_to_preset` or "
    "`convbert-tf convert`)",
    "a Hugging Face handle 'hf://ORG/NAME' of a released ConvBERT / GroupBERT checkpoint",
    "a Kaggle handle 'kaggle://OWNER/MODEL/keras/VARIANT[/VERSION]' of a keras-hub preset",
    "a Hugging Face checkpoint directory (config.json + model.safetensors, tf_model.h5 or "
    "pytorch_model.bin)",
    "a TF1 ConvBERT checkpoint (a directory with a `checkpoint` file, or a prefix with an "
    ".index file)",
)


def _architecture_presets():
    return {name: cls for cls in (ConvBertBackbone, GroupBertBackbone) for name in cls.presets}


def _not_a_source(path_or_handle, argument, reason):
    forms = "\n".join(f"  - {form}" for form in ACCEPTED_FORMS).format(
        names=", ".join(sorted(_architecture_presets())))
    return ValueError(f"`{argument}` {path_or_handle!r} {reason}. Accepted forms:\n{forms}")


def load_backbone(path_or_handle, dtype=None, *, argument="path_or_handle", **overrides):
    """A `ConvBertBackbone` or `GroupBertBackbone` from any of the places one comes from.

    Args:
        path_or_handle: a string or path-like, one of
            - a built-in architecture preset name (`ConvBertBackbone.presets`,
              `GroupBertBackbone.presets`): the architecture with random weights;
            - a keras-hub preset directory (`save_to_preset`, `convbert-tf convert`);
            - `hf://ORG/NAME`: a released checkpoint, fetched through the Hugging Face cache
              and converted once (`convbert_tf.checkpoints.hf_preset`);
            - `kaggle://OWNER/MODEL/keras/VARIANT[/VERSION]`: a keras-hub preset on Kaggle;
            - a Hugging Face checkpoint directory (config.json + model.safetensors /
              tf_model.h5 / pytorch_model.bin), read without PyTorch;
            - an official TF1 ConvBERT checkpoint (directory or prefix).
        dtype: dtype or dtype policy of the backbone (e.g. "mixed_bfloat16"); None: Keras'.
        argument: the name the error messages give `path_or_handle` (a CLI flag such as
            "--checkpoint").
        **overrides: config overrides for presets and handles (e.g. `dropout=0.0`,
            `vocabulary_size=...`); checkpoints take none (their config is part of them).

    Returns:
        The backbone; its class is the one the source names (ConvBERT or GroupBERT).

    Raises:
        ValueError: `path_or_handle` is none of the above (the message lists them), or a
            preset names another model family. Checkpoint and hub errors of
            `convbert_tf.checkpoints` (also `ValueError`s) pass through.

    Example:
    >>> backbone = load_backbone("conv_bert_small_en")          # random weights
    >>> backbone = load_backbone("hf://YituTech/conv-bert-small")
    >>> backbone = load_backbone("conv-bert-small/", dtype="mixed_bfloat16")  # HF directory
    """
    source = os.fspath(path_or_handle) if isinstance(path_or_handle, os.PathLike) \
        else path_or_handle
    if not isinstance(source, str) or not source:
        raise _not_a_source(path_or_handle, argument, "is not a non-empty string or path")
    presets = _architecture_presets()
    if source in presets:
        return presets[source].from_preset(source, load_weights=False, dtype=dtype,
                                           **overrides)
    if source.startswith((HF_SCHEME, KAGGLE_SCHEME)) or os.path.isfile(
            os.path.join(source, "metadata.json")):
        # keras-hub picks the class the preset's config.json names and refuses any class that
        # is not a ConvBERT / GroupBERT backbone.
        return PresetBackbone.from_preset(source, dtype=dtype, **overrides)
    if "://" in source:
        raise _not_a_source(path_or_handle, argument, "has an unsupported scheme")
    if not os.path.exists(source) and not os.path.exists(source + ".index"):
        raise _not_a_source(path_or_handle, argument, "does not exist and is no preset name")
    if overrides:
        raise ValueError(f"`{argument}` {path_or_handle!r} is a checkpoint, whose config cannot "
                         f"be overridden (got {sorted(overrides)}).")
    try:
        return get_loader("checkpoint")(source, dtype=dtype)
    except FileNotFoundError as error:
        raise _not_a_source(path_or_handle, argument, f"is not a checkpoint ({error})") \
            from error
