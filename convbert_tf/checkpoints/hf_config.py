"""Hugging Face `config.json` (model_type "convbert") -> `ConvBertBackbone` arguments."""

import json
import os

# config.json key -> ConvBertBackbone argument. Defaults are ConvBertConfig's own.
_HF_TO_BACKBONE = {
    "vocab_size": ("vocabulary_size", 30522),
    "num_hidden_layers": ("num_layers", 12),
    "num_attention_heads": ("num_heads", 12),
    "hidden_size": ("hidden_dim", 768),
    "intermediate_size": ("intermediate_dim", 3072),
    "embedding_size": ("embedding_dim", 768),
    "head_ratio": ("head_ratio", 2),
    "conv_kernel_size": ("conv_kernel_size", 9),
    "num_groups": ("num_groups", 1),
    "hidden_dropout_prob": ("dropout", 0.1),
    "max_position_embeddings": ("max_sequence_length", 512),
    "type_vocab_size": ("num_segments", 2),
}


def read_json(path):
    """Reads a JSON object from `path`, with a clear error when it is missing or malformed."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Config file not found: {path}")
    with open(path, encoding="utf-8") as f:
        try:
            config = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(config).__name__}.")
    return config


def backbone_config_from_hf(config, source="config.json"):
    """Maps a Hugging Face ConvBERT config dict to `ConvBertBackbone` keyword arguments.

    Args:
        config: the parsed `config.json` of a `YituTech/conv-bert-*` style repository.
        source: where the dict came from, for error messages.

    Returns:
        A dict of `ConvBertBackbone` arguments.

    Raises:
        ValueError: `model_type` is not "convbert", `hidden_act` is not exact "gelu", or
            `layer_norm_eps` is not the 1e-12 the backbone uses.

    Example:
    >>> backbone_config_from_hf({"model_type": "convbert", "hidden_size": 256,
    ...                          "embedding_size": 128})["embedding_dim"]
    128
    """
    model_type = config.get("model_type")
    if model_type != "convbert":
        raise ValueError(
            f"{source}: model_type is {model_type!r}, expected 'convbert'. Only ConvBERT "
            "checkpoints (e.g. YituTech/conv-bert-base) can be loaded."
        )
    activation = config.get("hidden_act", "gelu")
    if activation != "gelu":
        raise ValueError(
            f"{source}: hidden_act is {activation!r}; ConvBertBackbone implements exact "
            "(erf) 'gelu' only, as in the released checkpoints."
        )
    epsilon = config.get("layer_norm_eps", 1e-12)
    if abs(float(epsilon) - 1e-12) > 1e-15:
        raise ValueError(f"{source}: layer_norm_eps is {epsilon}; ConvBertBackbone uses 1e-12.")
    kwargs = {ours: config.get(theirs, default)
              for theirs, (ours, default) in _HF_TO_BACKBONE.items()}
    if kwargs["embedding_dim"] is None:
        kwargs["embedding_dim"] = kwargs["hidden_dim"]
    return kwargs
