"""The ConvBERT encoder as a functional keras-hub `Backbone`."""

import keras

from convbert_tf.layers import BertEmbedding, ConvBertLayer
from convbert_tf.layers.initializers import truncated_normal
from convbert_tf.layers.validation import check_positive, check_positive_number
from convbert_tf.models.preset_backbone import PresetBackbone, backbone_inputs
from convbert_tf.models.presets import CONVBERT_PRESETS


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertBackbone(PresetBackbone):
    """ConvBERT (Jiang et al., 2020): BERT with mixed attention and grouped FFNs.

    Inputs are int32 `[batch, seq]` tensors `token_ids`, `segment_ids`, `padding_mask` (any
    `seq <= max_sequence_length`); outputs are `sequence_output [batch, seq, hidden_dim]` and
    `pooled_output [batch, hidden_dim]`, which is the first token's state (ConvBERT has no pooler
    dense). Layer norms use epsilon 1e-12 and GELU is exact, as in the released checkpoints.

    Args:
        vocabulary_size: word-piece vocabulary size.
        num_layers: number of `ConvBertLayer`s.
        num_heads: configured head count; `num_heads // head_ratio` self-attention heads and as
            many span-conv heads run in each layer, each `hidden_dim // num_heads` wide.
        hidden_dim: model width `D`.
        intermediate_dim: FFN width.
        embedding_dim: embedding table width `E`; when it differs from `hidden_dim` a dense
            `embeddings_project` maps E -> D (small and medium-small use E=128). None: D.
        head_ratio: mixed-attention bottleneck ratio; must divide `num_heads`.
        conv_kernel_size: odd span-conv width (9).
        num_groups: FFN channel groups (medium-small: 2).
        dropout: dropout rate everywhere (0.1).
        max_sequence_length: number of learned positions (512).
        num_segments: number of token types (2).
        dtype: dtype or dtype policy of the model, e.g. "mixed_bfloat16".
        initializer_range: standard deviation of the truncated-normal initializer of every
            layer kernel and embedding table (ConvBERT's and Hugging Face's
            `initializer_range`, 0.02). Loaded weights do not depend on it; for training a
            narrow model from scratch see docs/pretraining.md ("What limited learning": at
            128 wide and 0.02, AdamW collapsed the discriminator, 0.05 did not).
        embeddings: optional `BertEmbedding` instance to use (and share) instead of building
            one: ELECTRA pretraining gives the generator the discriminator's embeddings. Its
            vocabulary size, width, positions and token types must match the arguments above.
            Not part of `get_config` (a deserialized backbone gets its own embeddings).

    Example:
    >>> backbone = ConvBertBackbone.from_preset("conv_bert_small_en", load_weights=False)
    >>> ids = np.ones((1, 16), "int32")
    >>> out = backbone({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": ids})
    >>> out["sequence_output"].shape
    TensorShape([1, 16, 256])
    """

    architecture_presets = CONVBERT_PRESETS

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 embedding_dim=None, head_ratio=2, conv_kernel_size=9, num_groups=1,
                 dropout=0.1, max_sequence_length=512, num_segments=2, dtype=None, embeddings=None,
                 initializer_range=0.02, **kwargs):
        embedding_dim = hidden_dim if embedding_dim is None else embedding_dim
        check_positive(num_layers=num_layers, hidden_dim=hidden_dim, embedding_dim=embedding_dim)
        check_positive_number("initializer_range", initializer_range)

        # === Layers ===
        if embeddings is None:
            embeddings = BertEmbedding(
                vocabulary_size, embedding_dim, max_sequence_length, num_segments, dropout,
                layer_norm_epsilon=1e-12, embeddings_initializer=truncated_normal(
                    initializer_range), dtype=dtype, name="embeddings",
            )
        else:
            _check_shared_embeddings(embeddings, vocabulary_size, embedding_dim,
                                     max_sequence_length, num_segments)
        self.embeddings = embeddings
        self.token_embedding = self.embeddings.token_embedding
        self.embeddings_project = None
        if embedding_dim != hidden_dim:
            # Glorot, not truncated normal: the reference initialises this projection so.
            self.embeddings_project = keras.layers.Dense(
                hidden_dim, kernel_initializer="glorot_uniform", dtype=dtype,
                name="embeddings_project",
            )
        self.transformer_layers = [
            ConvBertLayer(
                hidden_dim, num_heads, intermediate_dim, head_ratio=head_ratio,
                conv_kernel_size=conv_kernel_size, num_groups=num_groups, dropout=dropout,
                layer_norm_epsilon=1e-12, kernel_initializer=truncated_normal(initializer_range),
                dtype=dtype, name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]

        # === Functional model ===
        inputs = backbone_inputs()
        x = self.embeddings(inputs["token_ids"], inputs["segment_ids"])
        if self.embeddings_project is not None:
            x = self.embeddings_project(x)
        for layer in self.transformer_layers:
            x = layer(x, padding_mask=inputs["padding_mask"])
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": x, "pooled_output": x[:, 0, :]},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.embedding_dim = embedding_dim
        self.head_ratio = head_ratio
        self.conv_kernel_size = conv_kernel_size
        self.num_groups = num_groups
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.initializer_range = initializer_range

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "embedding_dim": self.embedding_dim,
                "head_ratio": self.head_ratio,
                "conv_kernel_size": self.conv_kernel_size,
                "num_groups": self.num_groups,
                "dropout": self.dropout,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "initializer_range": self.initializer_range,
            }
        )
        return config


def _check_shared_embeddings(embeddings, vocabulary_size, embedding_dim, max_sequence_length,
                             num_segments):
    if not isinstance(embeddings, BertEmbedding):
        raise TypeError(f"`embeddings` must be a BertEmbedding, got {type(embeddings).__name__}.")
    expected = {"vocabulary_size": vocabulary_size, "embedding_dim": embedding_dim,
                "max_sequence_length": max_sequence_length, "num_segments": num_segments}
    wrong = {k: (getattr(embeddings, k), v) for k, v in expected.items()
             if getattr(embeddings, k) != v}
    if wrong:
        raise ValueError(
            "The shared `embeddings` do not match this backbone: "
            + ", ".join(f"{k}={got} (backbone: {want})" for k, (got, want) in wrong.items())
        )
