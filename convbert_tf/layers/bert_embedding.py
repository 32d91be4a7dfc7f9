"""BERT input embeddings (word + position + token type), shared by ConvBERT and GroupBERT."""

import keras
from keras_hub.layers import PositionEmbedding

from convbert_tf.layers.dropout import Dropout
from convbert_tf.layers.initializers import clone_initializer, truncated_normal
from convbert_tf.layers.validation import check_positive, check_rate


@keras.saving.register_keras_serializable(package="convbert_tf")
class BertEmbedding(keras.layers.Layer):
    """Word + position + token-type embeddings, LayerNorm, dropout.

    All three tables are `embedding_dim` wide (`E`, 128 for ConvBERT small / medium-small). The
    factorised `E -> D` projection is NOT part of this layer: ELECTRA-style pretraining shares
    this layer between generator and discriminator while each keeps its own projection.

    Args:
        vocabulary_size: number of word pieces `V`.
        embedding_dim: table width `E`.
        max_sequence_length: number of learned positions (512); longer inputs are rejected.
        num_segments: number of token types (2).
        dropout: dropout rate after the LayerNorm.
        layer_norm_epsilon: 1e-12 for ConvBERT (BERT), 1e-3 for GroupBERT.
        embeddings_initializer: initializer of the three tables (None: truncated normal,
            std 0.02).

    Call args:
        token_ids: int `[B, T]`, `T <= max_sequence_length`.
        segment_ids: int `[B, T]` in `[0, num_segments)`.

    Example:
    >>> layer = BertEmbedding(vocabulary_size=100, embedding_dim=8, max_sequence_length=16)
    >>> ids = np.zeros((2, 10), "int32")
    >>> layer(ids, ids).shape
    (2, 10, 8)
    """

    def __init__(self, vocabulary_size, embedding_dim, max_sequence_length=512, num_segments=2,
                 dropout=0.1, layer_norm_epsilon=1e-12,
                 embeddings_initializer=None, **kwargs):
        super().__init__(**kwargs)
        check_positive(vocabulary_size=vocabulary_size, embedding_dim=embedding_dim,
                       max_sequence_length=max_sequence_length, num_segments=num_segments)
        check_rate("dropout", dropout)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        # None: BERT's truncated normal, std 0.02.
        self.embeddings_initializer = keras.initializers.get(
            embeddings_initializer or truncated_normal(0.02)
        )

        # ReversibleEmbedding lets the MLM head reuse the word table as its output matrix.
        self.token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size, embedding_dim,
            embeddings_initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy, name="word_embeddings",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy, name="position_embeddings",
        )
        self.segment_embedding = keras.layers.Embedding(
            num_segments, embedding_dim,
            embeddings_initializer=clone_initializer(self.embeddings_initializer),
            dtype=self.dtype_policy, name="token_type_embeddings",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=self.dtype_policy, name="layer_norm"
        )
        self.dropout_layer = Dropout(dropout, dtype=self.dtype_policy,
                                                  name="dropout")

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        self.segment_embedding.build(token_ids_shape)
        embedded_shape = (*token_ids_shape, self.embedding_dim)
        self.position_embedding.build(embedded_shape)
        self.layer_norm.build(embedded_shape)

    def call(self, token_ids, segment_ids, training=None):
        seq_len = token_ids.shape[1]
        if seq_len is not None and seq_len > self.max_sequence_length:
            # The position table would be sliced short and fail obscurely (or, on some
            # devices, read zeros): say what is wrong instead.
            raise ValueError(
                f"Input sequence length {seq_len} exceeds max_sequence_length="
                f"{self.max_sequence_length}. Truncate the inputs (the preprocessor's "
                "`sequence_length`) or build the model with a larger max_sequence_length."
            )
        tokens = self.token_embedding(token_ids)
        x = tokens + self.position_embedding(tokens) + self.segment_embedding(segment_ids)
        return self.dropout_layer(self.layer_norm(x), training=training)

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        return (*token_ids_shape, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config
