"""Hugging Face `config.json` -> backbone arguments: model_type "convbert" (`ConvBertBackbone`)
and "groupbert" (`GroupBertBackbone`, optimum-graphcore's `GroupBertConfig`)."""

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


# GroupBertConfig (a BertConfig plus ffn_groups, conv_group_size, conv_kernel_size) key ->
# GroupBertBackbone argument, with BertConfig's / GroupBertConfig's own defaults.
_GROUPBERT_TO_BACKBONE = {
    "vocab_size": ("vocabulary_size", 30522),
    "num_hidden_layers": ("num_layers", 12),
    "num_attention_heads": ("num_heads", 12),
    "hidden_size": ("hidden_dim", 768),
    "intermediate_size": ("intermediate_dim", 3072),
    "ffn_groups": ("num_groups", 4),
    "conv_kernel_size": ("conv_kernel_size", 7),
    "conv_group_size": ("conv_group_size", 16),
    "hidden_dropout_prob": ("dropout", 0.1),
    "attention_probs_dropout_prob": ("attention_dropout", 0.1),
    "layer_norm_eps": ("layer_norm_epsilon", 1e-12),
    "max_position_embeddings": ("max_sequence_length", 512),
    "type_vocab_size": ("num_segments", 2),
}

SUPPORTED_MODEL_TYPES = ("convbert", "groupbert")


def check_model_type(config, source="config.json"):
    """Returns the config's `model_type` if this package can load it, else a clear ValueError."""
    model_type = config.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"{source}: model_type is {model_type!r}; convbert_tf loads 'convbert' "
            "(e.g. YituTech/conv-bert-base -> ConvBertBackbone) and 'groupbert' "
            "(Graphcore/groupbert-base-uncased -> GroupBertBackbone) checkpoints only."
        )
    return model_type


def groupbert_config_from_hf(config, source="config.json"):
    """Maps a GroupBERT `config.json` (optimum-graphcore) to `GroupBertBackbone` arguments.

    Args:
        config: the parsed config of a `Graphcore/groupbert-base-uncased` style repository.
        source: where the dict came from, for error messages.

    Returns:
        A dict of `GroupBertBackbone` arguments (`use_conv_bias` is decided by the weights).

    Raises:
        ValueError: `model_type` is not "groupbert", `hidden_act` is not exact "gelu", or
            `position_embedding_type` is not "absolute".

    Example:
    >>> groupbert_config_from_hf({"model_type": "groupbert", "layer_norm_eps": 1e-3})[
    ...     "layer_norm_epsilon"]
    0.001
    """
    if config.get("model_type") != "groupbert":
        raise ValueError(f"{source}: model_type is {config.get('model_type')!r}, expected "
                         "'groupbert'.")
    activation = config.get("hidden_act", "gelu")
    if activation != "gelu":
        raise ValueError(f"{source}: hidden_act is {activation!r}; GroupBertBackbone implements "
                         "exact (erf) 'gelu' only, as the released checkpoint.")
    position_type = config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(f"{source}: position_embedding_type is {position_type!r}; only "
                         "'absolute' (learned positions) is implemented.")
    return {ours: config.get(theirs, default)
            for theirs, (ours, default) in _GROUPBERT_TO_BACKBONE.items()}
