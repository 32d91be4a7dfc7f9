"""Loading the official TF1 ConvBERT checkpoints (github yitu-opensource/ConvBert).

The released checkpoints are ELECTRA-style pretraining checkpoints: the discriminator (the
model to fine-tune) lives under `electra/`, next to `generator/*`, `generator_predictions/*`,
`discriminator_predictions/*`, `global_step` and the optimizer slots (`.../adam_m`,
`.../adam_v`). Only `electra/*` is read; the rest is ignored.
"""

import glob
import logging
import os
import re

from convbert_tf.checkpoints.errors import CheckpointNotFoundError
from convbert_tf.checkpoints.hf_config import backbone_config_from_hf, read_json
from convbert_tf.checkpoints.name_maps import tf1_sources
from convbert_tf.checkpoints.weight_mapping import assign_weights

logger = logging.getLogger(__name__)

SCOPE = "electra"
# Optimizer slots and moving averages that sit next to the weights they belong to.
_SLOT_SUFFIX = re.compile(r"/(adam_m|adam_v|Adam|Adam_\d+|ExponentialMovingAverage)$")


def find_tf1_checkpoint(path):
    """Resolves a checkpoint prefix or a directory to the prefix `tf.train` expects.

    Args:
        path: a prefix such as `convbert_small/model.ckpt-1000000` (the files are
            `<prefix>.index` and `<prefix>.data-*`), or a directory holding one checkpoint
            (its `checkpoint` file, else its single `.index` file, decides which).

    Raises:
        CheckpointNotFoundError: nothing matching exists.
    """
    import tensorflow as tf

    path = os.fspath(path)
    if os.path.isfile(path + ".index"):
        return path
    if path.endswith(".index") and os.path.isfile(path):
        return path[: -len(".index")]
    if os.path.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix:
            return prefix
        indexes = sorted(glob.glob(os.path.join(path, "*.index")))
        if len(indexes) == 1:
            return indexes[0][: -len(".index")]
        if len(indexes) > 1:
            raise CheckpointNotFoundError(
                f"{path} holds {len(indexes)} checkpoints and no `checkpoint` file: pass one "
                f"prefix, e.g. {indexes[-1][: -len('.index')]}"
            )
    raise CheckpointNotFoundError(
        f"No TF1 checkpoint at {path}: expected a prefix with a `.index` file, or a directory."
    )


def _backbone_names(shapes):
    backbone, ignored = {}, []
    for name, shape in shapes.items():
        if name.startswith(SCOPE + "/") and not _SLOT_SUFFIX.search(name):
            backbone[name] = tuple(shape)
        else:
            ignored.append(name)
    return backbone, sorted(ignored)


def infer_tf1_config(shapes):
    """Infers `ConvBertBackbone` arguments from the `electra/*` variable shapes.

    All of them are determined by the shapes: with A the query width, K the span width and
    N*K the kernel generator's width, the head size is d = A/N, the configured head count is
    D/d and head_ratio = (D/d)/N. Dropout (not stored) is set to the released 0.1.

    Args:
        shapes: `{variable name: shape}` of the checkpoint.

    Raises:
        ValueError: a variable needed for inference is missing.
    """
    def shape(name):
        full = f"{SCOPE}/{name}"
        if full not in shapes:
            raise ValueError(
                f"Cannot infer the config: {full} is not in the checkpoint. Is it a ConvBERT "
                "TF1 checkpoint? Pass `config=` explicitly otherwise."
            )
        return shapes[full]

    vocabulary_size, embedding_dim = shape("embeddings/word_embeddings")
    layer = "encoder/layer_0/attention"
    (hidden_dim,) = shape(f"{layer}/output/LayerNorm/gamma")
    attention_dim = shape(f"{layer}/self/query/kernel")[1]
    conv_kernel_size = shape(f"{layer}/self/conv_attn_key/depthwise_kernel")[0]
    num_mixed_heads = shape(f"{layer}/self/conv_attn_kernel/kernel")[1] // conv_kernel_size
    head_dim = attention_dim // num_mixed_heads
    num_heads = hidden_dim // head_dim
    grouped = f"{SCOPE}/encoder/layer_0/intermediate/g_dense/kernel"
    if grouped in shapes:
        num_groups, _, per_group = shapes[grouped]
        intermediate_dim = num_groups * per_group
    else:
        num_groups, intermediate_dim = 1, shape("encoder/layer_0/intermediate/dense/kernel")[1]
    layers = {int(m.group(1)) for name in shapes
              if (m := re.match(rf"{SCOPE}/encoder/layer_(\d+)/", name))}
    return {
        "vocabulary_size": vocabulary_size,
        "num_layers": max(layers) + 1,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "intermediate_dim": intermediate_dim,
        "embedding_dim": embedding_dim,
        "head_ratio": num_heads // num_mixed_heads,
        "conv_kernel_size": conv_kernel_size,
        "num_groups": num_groups,
        "dropout": 0.1,
        "max_sequence_length": shape("embeddings/position_embeddings")[0],
        "num_segments": shape("embeddings/token_type_embeddings")[0],
    }


def _backbone_kwargs(config, shapes):
    if config is None:
        return infer_tf1_config(shapes)
    source = "config"
    if isinstance(config, (str, os.PathLike)):
        source = os.fspath(config)
        config = read_json(source)
    config = dict(config)
    if "hidden_size" in config:
        # BERT/HF-style keys (the official code's BertConfig, or a HF config.json). The
        # official config names the FFN groups `linear_groups`.
        config.setdefault("model_type", "convbert")
        if "linear_groups" in config:
            config.setdefault("num_groups", config["linear_groups"])
        return backbone_config_from_hf(config, source=source)
    return config  # already ConvBertBackbone arguments


def load_tf1_checkpoint(path, config=None, dtype=None):
    """Builds a `ConvBertBackbone` from an official TF1 ConvBERT checkpoint.

    Args:
        path: checkpoint prefix (e.g. `convbert_base/model.ckpt-1000000`) or its directory.
        config: None to infer the architecture from the variable shapes; or a dict / JSON
            file path of either `ConvBertBackbone` arguments or BERT-style keys
            (`hidden_size`, `num_attention_heads`, `embedding_size`, `linear_groups`, ...).
        dtype: dtype or dtype policy of the backbone; None for the default.

    Returns:
        A `ConvBertBackbone` with the discriminator (`electra/*`) weights.

    Raises:
        CheckpointNotFoundError: (a ValueError) no checkpoint at `path`.
        ValueError: one error listing all missing, mis-shaped and unexpected `electra/*`
            variables; nothing is loaded then.

    Example:
    >>> backbone = load_tf1_checkpoint("convbert_small/model.ckpt-1000000")
    >>> backbone.num_layers
    12
    """
    import tensorflow as tf

    from convbert_tf.models import ConvBertBackbone

    prefix = find_tf1_checkpoint(path)
    reader = tf.train.load_checkpoint(prefix)
    names, ignored = _backbone_names(reader.get_variable_to_shape_map())
    logger.info("Ignoring %d non-discriminator variables of %s", len(ignored), prefix)
    backbone = ConvBertBackbone(**_backbone_kwargs(config, names), dtype=dtype)
    # Only electra/* is read: optimizer slots would triple the memory for nothing.
    tensors = {name: reader.get_tensor(name) for name in names}
    assign_weights(backbone, tensors, tf1_sources(backbone, SCOPE), prefix)
    return backbone

