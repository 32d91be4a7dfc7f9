"""Converting a released checkpoint (HF or TF1) into a keras-hub preset directory."""

import os
import shutil

from convbert_tf.checkpoints.errors import CheckpointNotFoundError
from convbert_tf.checkpoints.hf_checkpoint import WEIGHT_FILES, load_hf_checkpoint
from convbert_tf.checkpoints.tf1_checkpoint import find_tf1_checkpoint, load_tf1_checkpoint

FORMATS = ("auto", "hf", "tf1")
# Where keras-hub's PresetSaver puts a WordPiece tokenizer's vocabulary
# (assets/<tokenizer config name without .json>/vocabulary.txt), so a tokenizer saved later
# with `save_to_preset` and this file agree.
VOCABULARY_ASSET = os.path.join("assets", "tokenizer", "vocabulary.txt")


def detect_format(src):
    """'hf' for a HF directory or weights file, 'tf1' for a TF1 prefix / directory.

    Raises:
        CheckpointNotFoundError: `src` is neither.
    """
    src = os.fspath(src)
    if os.path.isfile(src) and src.endswith((".safetensors", ".h5", ".bin")):
        return "hf"
    if os.path.isdir(src) and os.path.isfile(os.path.join(src, "config.json")) and any(
        os.path.isfile(os.path.join(src, name)) for name in WEIGHT_FILES
    ):
        return "hf"
    try:
        find_tf1_checkpoint(src)
    except CheckpointNotFoundError:
        raise CheckpointNotFoundError(
            f"{src} is neither a Hugging Face checkpoint (config.json + "
            f"{' | '.join(WEIGHT_FILES)}) nor a TF1 checkpoint (prefix with a .index file)."
        ) from None
    return "tf1"


def load_checkpoint(src, format="auto", config=None, dtype=None):
    """Loads a HF or TF1 checkpoint as a `ConvBertBackbone` (see the two loaders).

    Args:
        src: HF directory / weights file, or TF1 prefix / directory.
        format: "auto", "hf" or "tf1".
        config: TF1 only: see `load_tf1_checkpoint` (HF reads its config.json).
        dtype: dtype or dtype policy of the backbone.

    Example:
    >>> backbone = load_checkpoint("conv-bert-small/")
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
    if format == "auto":
        format = detect_format(src)
    if format == "hf":
        if config is not None:
            raise ValueError("`config` applies to TF1 checkpoints; HF ones use config.json.")
        return load_hf_checkpoint(src, dtype=dtype)
    return load_tf1_checkpoint(src, config=config, dtype=dtype)


def _vocabulary_file(src, format):
    src = os.fspath(src)
    if format == "tf1":
        prefix = find_tf1_checkpoint(src)
        directory = os.path.dirname(prefix)
    else:
        directory = src if os.path.isdir(src) else os.path.dirname(src)
    path = os.path.join(directory or ".", "vocab.txt")
    return path if os.path.isfile(path) else None


def convert_checkpoint(src, dst, format="auto", config=None):
    """Writes a released checkpoint as a keras-hub preset directory.

    `dst` receives what `ConvBertBackbone.save_to_preset` writes (config.json,
    model.weights.h5, metadata.json) and, when `src` has a `vocab.txt` beside its weights,
    a copy at `assets/tokenizer/vocabulary.txt` (keras-hub's tokenizer asset layout).
    `ConvBertBackbone.from_preset(dst)` then rebuilds the same model.

    Args:
        src: HF directory / weights file, or TF1 checkpoint prefix / directory.
        dst: output directory (created if needed).
        format: "auto", "hf" or "tf1".
        config: TF1 only: None to infer, or a dict / JSON path (see `load_tf1_checkpoint`).

    Returns:
        The loaded `ConvBertBackbone`.

    Example:
    >>> convert_checkpoint("conv-bert-small/", "presets/conv_bert_small_en")
    >>> backbone = ConvBertBackbone.from_preset("presets/conv_bert_small_en")
    """
    format = detect_format(src) if format == "auto" else format
    backbone = load_checkpoint(src, format=format, config=config)
    dst = os.fspath(dst)
    os.makedirs(dst, exist_ok=True)
    backbone.save_to_preset(dst)
    vocabulary = _vocabulary_file(src, format)
    if vocabulary is not None:
        target = os.path.join(dst, VOCABULARY_ASSET)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(vocabulary, target)
    return backbone
