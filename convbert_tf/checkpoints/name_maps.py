"""Tensor names and layouts of the three released ConvBERT formats, per backbone variable.

One table (`_LAYER_TABLE`) lists, for each variable of a `ConvBertLayer`, its name in
  * Hugging Face PyTorch files (`pytorch_model.bin` / `model.safetensors`), PyTorch layout;
  * Hugging Face `tf_model.h5` (`TFConvBertModel`), Keras layout except grouped kernels;
  * the official TF1 checkpoint (`electra/...`), Keras layout (GDense kernels included).
Names come from `transformers`' `modeling_convbert.py` / `modeling_tf_convbert.py` and the
official `model/modeling.py` (see docs/checkpoints.md for what was verified and how).
"""

from convbert_tf.checkpoints.weight_mapping import (
    AS_IS,
    HF_TF_GROUPED,
    TORCH_COLUMN_BIAS,
    TORCH_DEPTHWISE,
    TORCH_POINTWISE,
    TRANSPOSE,
    WeightSource,
)

# (our path under transformer_layer_{i}/, HF torch name under encoder.layer.{i}., torch layout,
#  TF name under encoder/layer_._{i}/ (h5) and electra/encoder/layer_{i}/ (TF1) with "{ffn}"
#  standing for the FFN sub-layer name). Kernels of Dense layers are [in, out] in Keras and TF1,
#  [out, in] in PyTorch.
_SELF = "attention/self"
_LAYER_TABLE = [
    ("attention/query/kernel", "attention.self.query.weight", TRANSPOSE,
     f"{_SELF}/query/kernel", f"{_SELF}/query/kernel"),
    ("attention/query/bias", "attention.self.query.bias", AS_IS,
     f"{_SELF}/query/bias", f"{_SELF}/query/bias"),
    ("attention/key/kernel", "attention.self.key.weight", TRANSPOSE,
     f"{_SELF}/key/kernel", f"{_SELF}/key/kernel"),
    ("attention/key/bias", "attention.self.key.bias", AS_IS,
     f"{_SELF}/key/bias", f"{_SELF}/key/bias"),
    ("attention/value/kernel", "attention.self.value.weight", TRANSPOSE,
     f"{_SELF}/value/kernel", f"{_SELF}/value/kernel"),
    ("attention/value/bias", "attention.self.value.bias", AS_IS,
     f"{_SELF}/value/bias", f"{_SELF}/value/bias"),
    ("attention/span_conv/key_conv_attn_layer/depthwise_kernel",
     "attention.self.key_conv_attn_layer.depthwise.weight", TORCH_DEPTHWISE,
     f"{_SELF}/key_conv_attn_layer/depthwise_kernel", f"{_SELF}/conv_attn_key/depthwise_kernel"),
    ("attention/span_conv/key_conv_attn_layer/pointwise_kernel",
     "attention.self.key_conv_attn_layer.pointwise.weight", TORCH_POINTWISE,
     f"{_SELF}/key_conv_attn_layer/pointwise_kernel", f"{_SELF}/conv_attn_key/pointwise_kernel"),
    ("attention/span_conv/key_conv_attn_layer/bias",
     "attention.self.key_conv_attn_layer.bias", TORCH_COLUMN_BIAS,
     f"{_SELF}/key_conv_attn_layer/bias", f"{_SELF}/conv_attn_key/bias"),
    ("attention/span_conv/conv_kernel_layer/kernel", "attention.self.conv_kernel_layer.weight",
     TRANSPOSE, f"{_SELF}/conv_kernel_layer/kernel", f"{_SELF}/conv_attn_kernel/kernel"),
    ("attention/span_conv/conv_kernel_layer/bias", "attention.self.conv_kernel_layer.bias",
     AS_IS, f"{_SELF}/conv_kernel_layer/bias", f"{_SELF}/conv_attn_kernel/bias"),
    ("attention/span_conv/conv_out_layer/kernel", "attention.self.conv_out_layer.weight",
     TRANSPOSE, f"{_SELF}/conv_out_layer/kernel", f"{_SELF}/conv_attn_point/kernel"),
    ("attention/span_conv/conv_out_layer/bias", "attention.self.conv_out_layer.bias", AS_IS,
     f"{_SELF}/conv_out_layer/bias", f"{_SELF}/conv_attn_point/bias"),
    ("attention_output_dense/kernel", "attention.output.dense.weight", TRANSPOSE,
     "attention/output/dense/kernel", "attention/output/dense/kernel"),
    ("attention_output_dense/bias", "attention.output.dense.bias", AS_IS,
     "attention/output/dense/bias", "attention/output/dense/bias"),
    ("attention_layer_norm/gamma", "attention.output.LayerNorm.weight", AS_IS,
     "attention/output/LayerNorm/gamma", "attention/output/LayerNorm/gamma"),
    ("attention_layer_norm/beta", "attention.output.LayerNorm.bias", AS_IS,
     "attention/output/LayerNorm/beta", "attention/output/LayerNorm/beta"),
    ("intermediate/kernel", "intermediate.dense.weight", "ffn",
     "intermediate/dense/kernel", "intermediate/{ffn}/kernel"),
    ("intermediate/bias", "intermediate.dense.bias", AS_IS,
     "intermediate/dense/bias", "intermediate/{ffn}/bias"),
    ("output_dense/kernel", "output.dense.weight", "ffn",
     "output/dense/kernel", "output/{ffn}/kernel"),
    ("output_dense/bias", "output.dense.bias", AS_IS,
     "output/dense/bias", "output/{ffn}/bias"),
    ("output_layer_norm/gamma", "output.LayerNorm.weight", AS_IS,
     "output/LayerNorm/gamma", "output/LayerNorm/gamma"),
    ("output_layer_norm/beta", "output.LayerNorm.bias", AS_IS,
     "output/LayerNorm/beta", "output/LayerNorm/beta"),
]

# (our path, HF torch name, torch layout, HF TF name, TF1 name under electra/)
_EMBEDDING_TABLE = [
    ("embeddings/word_embeddings/embeddings", "embeddings.word_embeddings.weight", AS_IS,
     "embeddings/word_embeddings/weight", "embeddings/word_embeddings"),
    ("embeddings/position_embeddings/embeddings", "embeddings.position_embeddings.weight", AS_IS,
     "embeddings/position_embeddings/embeddings", "embeddings/position_embeddings"),
    ("embeddings/token_type_embeddings/embeddings", "embeddings.token_type_embeddings.weight",
     AS_IS, "embeddings/token_type_embeddings/embeddings", "embeddings/token_type_embeddings"),
    ("embeddings/layer_norm/gamma", "embeddings.LayerNorm.weight", AS_IS,
     "embeddings/LayerNorm/gamma", "embeddings/LayerNorm/gamma"),
    ("embeddings/layer_norm/beta", "embeddings.LayerNorm.bias", AS_IS,
     "embeddings/LayerNorm/beta", "embeddings/LayerNorm/beta"),
]
_PROJECT_TABLE = [
    ("embeddings_project/kernel", "embeddings_project.weight", TRANSPOSE,
     "embeddings_project/kernel", "embeddings_project/kernel"),
    ("embeddings_project/bias", "embeddings_project.bias", AS_IS,
     "embeddings_project/bias", "embeddings_project/bias"),
]


def _rows(backbone):
    rows = list(_EMBEDDING_TABLE)
    if backbone.embeddings_project is not None:
        rows += _PROJECT_TABLE
    return rows


def hf_torch_sources(backbone):
    """`WeightSource`s for HF PyTorch state dicts (keys without the `convbert.` prefix)."""
    grouped = backbone.num_groups > 1
    sources = [WeightSource(ours, torch, layout) for ours, torch, layout, _, _ in _rows(backbone)]
    for i in range(backbone.num_layers):
        for ours, torch, layout, _, _ in _LAYER_TABLE:
            if layout == "ffn":
                # Grouped weights are stored [G, in/G, out/G], our layout; Linear is [out, in].
                layout = AS_IS if grouped else TRANSPOSE
            sources.append(WeightSource(f"transformer_layer_{i}/{ours}",
                                        f"encoder.layer.{i}.{torch}", layout))
    return sources


def hf_tf_sources(backbone):
    """`WeightSource`s for HF `tf_model.h5`, names relative to the `convbert/` main layer."""
    grouped = backbone.num_groups > 1
    sources = [WeightSource(ours, tf_name) for ours, _, _, tf_name, _ in _rows(backbone)]
    for i in range(backbone.num_layers):
        for ours, _, torch_layout, tf_name, _ in _LAYER_TABLE:
            layout = HF_TF_GROUPED if (torch_layout == "ffn" and grouped) else AS_IS
            sources.append(WeightSource(f"transformer_layer_{i}/{ours}",
                                        f"encoder/layer_._{i}/{tf_name}", layout))
    return sources


def tf1_sources(backbone, scope="electra"):
    """`WeightSource`s for the official TF1 checkpoint (discriminator scope `electra/`)."""
    ffn = "g_dense" if backbone.num_groups > 1 else "dense"
    sources = [WeightSource(ours, f"{scope}/{tf1}") for ours, _, _, _, tf1 in _rows(backbone)]
    for i in range(backbone.num_layers):
        for ours, _, _, _, tf1 in _LAYER_TABLE:
            sources.append(WeightSource(f"transformer_layer_{i}/{ours}",
                                        f"{scope}/encoder/layer_{i}/{tf1.format(ffn=ffn)}"))
    return sources
