"""The GroupBERT encoder as a functional keras-hub `Backbone`."""

import keras

from convbert_tf.layers import BertEmbedding, GroupBertLayer
from convbert_tf.layers.initializers import truncated_normal
from convbert_tf.layers.validation import check_positive, check_positive_number
from convbert_tf.models.convbert_backbone import _check_shared_embeddings
from convbert_tf.models.preset_backbone import PresetBackbone, backbone_inputs
from convbert_tf.models.presets import GROUPBERT_PRESETS


@keras.saving.register_keras_serializable(package="convbert_tf")
class GroupBertBackbone(PresetBackbone):
    """GroupBERT (Chelombiev et al., 2021): pre-LN layers with a grouped conv module and
    grouped FFNs.

    BERT embeddings -> LayerNorm -> dropout -> `num_layers` `GroupBertLayer`s -> final
    LayerNorm. `pooled_output` is BERT's pooler: `tanh(Dense(sequence_output[:, 0]))`.
    The defaults are the released PyTorch model (`Graphcore/groupbert-base-uncased`, written by
    optimum-graphcore): every LayerNorm uses `layer_norm_epsilon` (1e-12) and the grouped
    convolution has a bias. Graphcore's TF1 variant is `layer_norm_epsilon=1e-3,
    use_conv_bias=False`.

    Args:
        vocabulary_size: word-piece vocabulary size.
        num_layers: number of layers.
        num_heads: attention heads.
        hidden_dim: model width `d` (a multiple of `conv_group_size` and `num_groups`).
        intermediate_dim: grouped-FFN width (4d).
        num_groups: groups of the FFN down-projections (4).
        conv_kernel_size: odd width of the grouped convolution (7).
        conv_group_size: channels per convolution group (16).
        dropout: dropout of the embeddings and of every residual branch
            (`hidden_dropout_prob`, 0.1).
        attention_dropout: dropout of the attention probabilities
            (`attention_probs_dropout_prob`); None: `dropout`.
        layer_norm_epsilon: epsilon of every LayerNorm (embeddings, pre-norms, convolution
            norm, final norm; a masked-LM head follows the embeddings' one). 1e-12.
        use_conv_bias: whether the grouped convolution has a bias (True).
        max_sequence_length: learned positions (512).
        num_segments: token types (2).
        dtype: dtype or dtype policy.
        embedding_dim: embedding table width `E`; when it differs from `hidden_dim` a dense
            `embeddings_project` maps E -> d after the embeddings (as in `ConvBertBackbone`;
            an ELECTRA generator narrower than its discriminator shares E). None: d.
        initializer_range: standard deviation of the truncated-normal initializer of every
            kernel and embedding table (Hugging Face's `initializer_range`, 0.02). Loaded
            weights do not depend on it; for training a narrow model from scratch see
            docs/pretraining.md ("What limited learning").
        embeddings: optional `BertEmbedding` instance to use (and share) instead of building
            one (ELECTRA pretraining). Its vocabulary size, width, positions and token types
            must match the arguments above. Not part of `get_config`.

    Example:
    >>> backbone = GroupBertBackbone.from_preset("group_bert_tiny_en", load_weights=False)
    >>> ids = np.ones((1, 16), "int32")
    >>> out = backbone({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": ids})
    >>> out["pooled_output"].shape
    TensorShape([1, 128])
    """

    architecture_presets = GROUPBERT_PRESETS

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 num_groups=4, conv_kernel_size=7, conv_group_size=16, dropout=0.1,
                 max_sequence_length=512, num_segments=2, dtype=None, embedding_dim=None,
                 embeddings=None, attention_dropout=None, layer_norm_epsilon=1e-12,
                 use_conv_bias=True, initializer_range=0.02, **kwargs):
        embedding_dim = hidden_dim if embedding_dim is None else embedding_dim
        attention_dropout = dropout if attention_dropout is None else attention_dropout
        check_positive(num_layers=num_layers, hidden_dim=hidden_dim, embedding_dim=embedding_dim)
        check_positive_number("initializer_range", initializer_range)

        # === Layers ===
        if embeddings is None:
            embeddings = BertEmbedding(
                vocabulary_size, embedding_dim, max_sequence_length, num_segments, dropout,
                layer_norm_epsilon=layer_norm_epsilon,
                embeddings_initializer=truncated_normal(initializer_range), dtype=dtype,
                name="embeddings",
            )
        else:
            _check_shared_embeddings(embeddings, vocabulary_size, embedding_dim,
                                     max_sequence_length, num_segments)
        self.embeddings = embeddings
        self.token_embedding = self.embeddings.token_embedding
        self.embeddings_project = None
        if embedding_dim != hidden_dim:
            self.embeddings_project = keras.layers.Dense(
                hidden_dim, kernel_initializer=truncated_normal(initializer_range), dtype=dtype,
                name="embeddings_project",
            )
        self.transformer_layers = [
            GroupBertLayer(
                hidden_dim, num_heads, intermediate_dim, num_groups=num_groups,
                conv_kernel_size=conv_kernel_size, conv_group_size=conv_group_size,
                dropout=dropout, attention_dropout=attention_dropout,
                layer_norm_epsilon=layer_norm_epsilon, use_conv_bias=use_conv_bias,
                kernel_initializer=truncated_normal(initializer_range), dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.final_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="final_layer_norm"
        )
        self.pooled_dense = keras.layers.Dense(
            hidden_dim, activation="tanh", kernel_initializer=truncated_normal(initializer_range),
            dtype=dtype, name="pooled_dense",
        )

        # === Functional model ===
        inputs = backbone_inputs()
        x = self.embeddings(inputs["token_ids"], inputs["segment_ids"])
        if self.embeddings_project is not None:
            x = self.embeddings_project(x)
        for layer in self.transformer_layers:
            x = layer(x, padding_mask=inputs["padding_mask"])
        x = self.final_layer_norm(x)
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": x, "pooled_output": self.pooled_dense(x[:, 0, :])},
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
        self.num_groups = num_groups
        self.conv_kernel_size = conv_kernel_size
        self.conv_group_size = conv_group_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.use_conv_bias = use_conv_bias
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.initializer_range = initializer_range

    @classmethod
    def from_config(cls, config):
        # Configs saved before `use_conv_bias` / `layer_norm_epsilon` existed describe the
        # model of that time (no convolution bias, epsilon 1e-3): keep loading them as such.
        if "use_conv_bias" not in config:
            config = {**config, "use_conv_bias": False}
            config.setdefault("layer_norm_epsilon", 1e-3)
        return super().from_config(config)

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
                "num_groups": self.num_groups,
                "conv_kernel_size": self.conv_kernel_size,
                "conv_group_size": self.conv_group_size,
                "dropout": self.dropout,
                "attention_dropout": self.attention_dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "use_conv_bias": self.use_conv_bias,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "initializer_range": self.initializer_range,
            }
        )
        return config
