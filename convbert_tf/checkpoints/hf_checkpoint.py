"""Loading Hugging Face format ConvBERT checkpoints (`YituTech/conv-bert-*` layout)."""

import logging
import os

from convbert_tf.checkpoints.errors import CheckpointNotFoundError
from convbert_tf.checkpoints.hf_config import backbone_config_from_hf, read_json
from convbert_tf.checkpoints.hf_readers import read_hf_h5, read_safetensors, read_torch_bin
from convbert_tf.checkpoints.name_maps import hf_tf_sources, hf_torch_sources
from convbert_tf.checkpoints.weight_mapping import assign_weights

logger = logging.getLogger(__name__)

# In order of preference: the first two load without PyTorch.
WEIGHT_FILES = ("model.safetensors", "tf_model.h5", "pytorch_model.bin")


def find_hf_weights(path):
    """Resolves a HF directory (or a weights file inside one) to `(directory, weights file)`.

    Args:
        path: a directory holding `config.json` and one of `WEIGHT_FILES`, or the path of a
            `.safetensors`, `.h5` or `.bin` file with `config.json` beside it.

    Raises:
        CheckpointNotFoundError: the path, `config.json` or every weights file is missing.
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        directory, weights = os.path.dirname(path) or ".", path
    elif os.path.isdir(path):
        directory = path
        candidates = [os.path.join(path, name) for name in WEIGHT_FILES]
        weights = next((c for c in candidates if os.path.isfile(c)), None)
        if weights is None:
            raise CheckpointNotFoundError(
                f"No weights in {path}: expected one of {', '.join(WEIGHT_FILES)} "
                "(sharded checkpoints are not supported)."
            )
    else:
        raise CheckpointNotFoundError(f"Checkpoint path does not exist: {path}")
    config_path = os.path.join(directory, "config.json")
    if not os.path.isfile(config_path):
        raise CheckpointNotFoundError(f"Missing {config_path} (the Hugging Face model config).")
    return directory, weights


def read_hf_weights(weights_path):
    """Reads a HF weights file; returns `(tensors, ignored, format)` with format 'torch'|'h5'."""
    if weights_path.endswith(".safetensors"):
        return (*read_safetensors(weights_path), "torch")
    if weights_path.endswith(".h5"):
        return (*read_hf_h5(weights_path), "h5")
    if weights_path.endswith((".bin", ".pt", ".pth")):
        return (*read_torch_bin(weights_path), "torch")
    raise ValueError(
        f"Unknown weights file type: {weights_path} (expected .safetensors, .h5 or .bin)."
    )


def load_hf_checkpoint(path, dtype=None):
    """Builds a `ConvBertBackbone` holding the weights of a Hugging Face ConvBERT checkpoint.

    The architecture comes from `config.json`; the weights from `model.safetensors`,
    `tf_model.h5` or `pytorch_model.bin` (first found, in that order; or the file `path`
    names). Keys with or without the `convbert.` prefix are accepted; task heads and the
    `embeddings.position_ids` buffer are ignored. Every tensor is validated before any is
    assigned: a bad file raises one `ValueError` listing all missing, mis-shaped and
    unexpected tensors.

    Args:
        path: a directory like a `YituTech/conv-bert-*` download, or a weights file in one.
        dtype: dtype or dtype policy of the backbone (e.g. "mixed_bfloat16"); None: default.

    Returns:
        A `ConvBertBackbone`.

    Raises:
        CheckpointNotFoundError: (a ValueError) missing directory, config or weights file.
        ValueError: wrong `model_type` / `hidden_act`, or tensors that do not match.
        ImportError: a `.bin` file and PyTorch not installed.

    Example:
    >>> backbone = load_hf_checkpoint("conv-bert-small/")
    >>> backbone.save_to_preset("conv_bert_small_en/")
    """
    from convbert_tf.models import ConvBertBackbone

    directory, weights_path = find_hf_weights(path)
    config_path = os.path.join(directory, "config.json")
    kwargs = backbone_config_from_hf(read_json(config_path), source=config_path)
    tensors, ignored, file_format = read_hf_weights(weights_path)
    if ignored:
        logger.info("Ignoring %d non-backbone tensors of %s: %s", len(ignored), weights_path,
                    ", ".join(ignored))
    backbone = ConvBertBackbone(**kwargs, dtype=dtype)
    sources = hf_tf_sources(backbone) if file_format == "h5" else hf_torch_sources(backbone)
    assign_weights(backbone, tensors, sources, weights_path)
    return backbone
