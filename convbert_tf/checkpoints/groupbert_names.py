"""Tensor names and layouts of the released PyTorch GroupBERT (`Graphcore/groupbert-base-uncased`).

The checkpoint is a `GroupBertForPreTraining` state dict written by optimum-graphcore
(`optimum/graphcore/models/groupbert/`, PR #139): BERT's embeddings, pooler and MLM head from
transformers, and per layer a `convolution` module, two grouped FFNs (`intermediate_first` /
`output_first`, `intermediate_second` / `output_second`) and a pre-norm `attention`.
Keys here are without the `bert.` prefix of the backbone part (see `split_groupbert_state`).
"""

from convbert_tf.checkpoints.weight_mapping import (
    AS_IS,
    TRANSPOSE,
    TorchGrouped1x1,
    TorchGroupedConv,
    WeightSource,
)

# Non-persistent buffer that transformers 4.20 saved with the weights.
POSITION_IDS = "embeddings.position_ids"
# MLM head tensors of the checkpoint (under `cls.predictions.`), loaded into ConvBertMaskedLM.
_MLM_TABLE = [
    ("mlm_head/intermediate_dense/kernel", "cls.predictions.transform.dense.weight", TRANSPOSE),
    ("mlm_head/intermediate_dense/bias", "cls.predictions.transform.dense.bias", AS_IS),
    ("mlm_head/intermediate_layer_norm/gamma", "cls.predictions.transform.LayerNorm.weight",
     AS_IS),
    ("mlm_head/intermediate_layer_norm/beta", "cls.predictions.transform.LayerNorm.bias", AS_IS),
    ("mlm_head/output_bias", "cls.predictions.bias", AS_IS),
]
# What is deliberately not loaded: the decoder duplicates the (tied) word table and
# `cls.predictions.bias`; the NSP head has no counterpart in our tasks.
TIED_DUPLICATES = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")
NSP_PREFIX = "cls.seq_relationship."


def _norm(ours, theirs):
    return [WeightSource(f"{ours}/gamma", f"{theirs}.weight"),
            WeightSource(f"{ours}/beta", f"{theirs}.bias")]


def _linear(ours, theirs):
    return [WeightSource(f"{ours}/kernel", f"{theirs}.weight", TRANSPOSE),
            WeightSource(f"{ours}/bias", f"{theirs}.bias")]


def groupbert_torch_sources(backbone):
    """`WeightSource`s of a `GroupBertBackbone` in a GroupBERT PyTorch state dict."""
    sources = [
        WeightSource("embeddings/word_embeddings/embeddings", "embeddings.word_embeddings.weight"),
        WeightSource("embeddings/position_embeddings/embeddings",
                     "embeddings.position_embeddings.weight"),
        WeightSource("embeddings/token_type_embeddings/embeddings",
                     "embeddings.token_type_embeddings.weight"),
        *_norm("embeddings/layer_norm", "embeddings.LayerNorm"),
    ]
    if backbone.embeddings_project is not None:
        raise ValueError("The released GroupBERT has no embeddings projection "
                         "(embedding_dim == hidden_dim).")
    grouped_1x1 = TorchGrouped1x1(groups=backbone.num_groups)
    for i in range(backbone.num_layers):
        ours, theirs = f"transformer_layer_{i}", f"encoder.layer.{i}"
        conv = f"{theirs}.convolution"
        sources += [
            *_norm(f"{ours}/convolution_layer_norm", f"{conv}.prenorm"),
            *_linear(f"{ours}/convolution/glu", f"{conv}.glu"),
            WeightSource(f"{ours}/convolution/conv_kernel", f"{conv}.groupconv.weight",
                         TorchGroupedConv()),
            *_norm(f"{ours}/convolution/conv_layer_norm", f"{conv}.conv_norm"),
            *_linear(f"{ours}/convolution/conv_output", f"{conv}.output_projection"),
        ]
        if backbone.use_conv_bias:
            sources.append(WeightSource(f"{ours}/convolution/conv_bias", f"{conv}.groupconv.bias"))
        for ffn, which in (("feed_forward_1", "first"), ("feed_forward_2", "second")):
            sources += [
                *_norm(f"{ours}/{ffn}_layer_norm", f"{theirs}.intermediate_{which}.LayerNorm"),
                *_linear(f"{ours}/{ffn}/up", f"{theirs}.intermediate_{which}.dense"),
                WeightSource(f"{ours}/{ffn}/grouped_down/kernel",
                             f"{theirs}.output_{which}.grouped_matmul.weight", grouped_1x1),
                WeightSource(f"{ours}/{ffn}/grouped_down/bias",
                             f"{theirs}.output_{which}.grouped_matmul.bias"),
                *_linear(f"{ours}/{ffn}/mixer",
                         f"{theirs}.output_{which}.dense_output_projection"),
            ]
        attention = f"{theirs}.attention"
        sources += _norm(f"{ours}/attention_layer_norm", f"{attention}.LayerNorm")
        for projection in ("query", "key", "value"):
            sources += _linear(f"{ours}/attention/{projection}",
                               f"{attention}.self.{projection}")
        sources += _linear(f"{ours}/attention/attention_output", f"{attention}.output.dense")
    sources += _norm("final_layer_norm", "encoder.LayerNorm")
    sources += _linear("pooled_dense", "pooler.dense")
    return sources


def groupbert_mlm_sources():
    """`WeightSource`s of `ConvBertMaskedLM`'s head (keys keep their `cls.predictions.` names)."""
    return [WeightSource(ours, theirs, layout) for ours, theirs, layout in _MLM_TABLE]


def split_groupbert_state(state):
    """Splits a GroupBERT state dict into `(backbone, head, ignored)`.

    `backbone` holds the `bert.*` tensors without the prefix (a bare `GroupBertModel` state dict,
    without prefix, works too); `head` the `cls.predictions.*` MLM tensors; `ignored` the names
    deliberately skipped: the position_ids buffer, the tied decoder duplicates, the NSP head.
    """
    backbone, head, ignored = {}, {}, []
    for key, value in state.items():
        name = key[len("bert."):] if key.startswith("bert.") else key
        if name == POSITION_IDS or key in TIED_DUPLICATES or key.startswith(NSP_PREFIX):
            ignored.append(key)
        elif key.startswith("cls.predictions."):
            head[key] = value
        else:
            backbone[name] = value
    return backbone, head, sorted(ignored)
