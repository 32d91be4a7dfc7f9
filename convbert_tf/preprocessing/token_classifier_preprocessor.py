"""`ConvBertTokenClassifierPreprocessor`: pre-split words + word labels -> per-piece targets."""

import keras
import keras_hub
import tensorflow as tf

from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.convbert_tokenizer import ConvBertTokenizer
from convbert_tf.preprocessing.host_outputs import host_outputs
from convbert_tf.preprocessing.segment_packing import check_sequence_length, tflite_friendly_pack


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertTokenClassifierPreprocessor(HfPresetMixin, keras_hub.models.Preprocessor):
    """Tokenizes pre-split words and aligns word-level labels to word pieces (e.g. NER).

    Each word's label goes to its FIRST word piece; its other pieces, `[CLS]`, `[SEP]` and
    padding get label 0 with sample weight 0 (ignored by the loss and metrics), the usual
    BERT / CoNLL recipe. Sentences longer than `sequence_length - 2` pieces are truncated;
    words cut off that way are not predicted. A word the tokenizer turns into nothing (only
    characters BERT deletes) has no piece and hence no prediction either.

    Inputs: a `tf.RaggedTensor` / list of lists of word strings `[batch, words]`, and
    optionally labels of the same ragged shape (ints). Output:
    `(x, y, sample_weight)` with `x = {token_ids, segment_ids, padding_mask}` and `y`,
    `sample_weight` of shape `[batch, sequence_length]`. Runs in `tf.data` and eagerly.

    Args:
        tokenizer: a `ConvBertTokenizer`; None: the default one.
        sequence_length: padded length (128).

    Example:
    >>> pre = ConvBertTokenClassifierPreprocessor(sequence_length=16)
    >>> x, y, w = pre([["John", "lives", "in", "Zürich"]], [[1, 0, 0, 2]])
    """

    # keras-hub's `from_preset` checks a preset's backbone class against this.
    backbone_cls = ConvBertBackbone
    tokenizer_cls = ConvBertTokenizer

    def __init__(self, tokenizer=None, sequence_length=128, **kwargs):
        super().__init__(**kwargs)
        check_sequence_length(sequence_length)
        self.tokenizer = ConvBertTokenizer() if tokenizer is None else tokenizer
        self.sequence_length = sequence_length

    def build(self, input_shape=None):
        self.built = True

    def call(self, x, y=None, sample_weight=None):
        with tf.device("cpu"):
            outputs = self.pack_words(x, y, sample_weight)
        # keras-hub's output contract: NumPy inside Grain, TF tensors in tf.data.
        return host_outputs(outputs)

    def pack_words(self, x, y=None, sample_weight=None):
        """`call`'s TensorFlow computation (the class docstring describes it)."""
        words = x if isinstance(x, tf.RaggedTensor) else tf.ragged.constant(x, dtype=tf.string)
        if words.shape.rank != 2:
            raise ValueError("`x` must be a batch of pre-split sentences [batch, words], got "
                             f"rank {words.shape.rank}.")
        pieces = self.tokenizer.tokenize(words.flat_values)  # [num_words, pieces]
        pieces = tf.RaggedTensor.from_row_splits(tf.cast(pieces, tf.int32), words.row_splits)
        flat = pieces.merge_dims(1, 2)  # [batch, pieces]
        # 1 on each word's first piece: the first element of every inner row.
        word_pieces = pieces.values  # [num_words, pieces]
        index_in_word = tf.range(tf.size(word_pieces.flat_values, out_type=tf.int64)) - tf.repeat(
            word_pieces.row_starts(), word_pieces.row_lengths())
        first = tf.RaggedTensor.from_row_splits(
            tf.cast(tf.equal(index_in_word, 0), tf.int32), flat.row_splits)
        token_ids, segment_ids, padding_mask = tflite_friendly_pack(
            (flat,), self.sequence_length, self.tokenizer.cls_token_id,
            self.tokenizer.sep_token_id, self.tokenizer.pad_token_id,
        )
        out_x = {"token_ids": token_ids, "segment_ids": segment_ids,
                 "padding_mask": padding_mask}
        weights = self._align(first, token_ids)
        if y is None:
            return keras.utils.pack_x_y_sample_weight(out_x, None, weights)
        labels = y if isinstance(y, tf.RaggedTensor) else tf.ragged.constant(y, dtype=tf.int32)
        labels = tf.cast(labels, tf.int32)
        tf.debugging.assert_equal(labels.row_lengths(), words.row_lengths(),
                                  message="every word needs exactly one label")
        # Repeat each word's label over its pieces, then keep it on the first piece only.
        per_piece = tf.RaggedTensor.from_row_splits(
            tf.repeat(labels.flat_values, pieces.values.row_lengths()),
            flat.row_splits,
        )
        piece_labels = self._align(per_piece, token_ids) * tf.cast(weights > 0, tf.int32)
        if sample_weight is not None:
            raise ValueError("Per-word sample weights are not supported; the first-piece "
                             "weights are computed here.")
        return out_x, piece_labels, tf.cast(weights, tf.float32)

    def _align(self, per_piece, token_ids):
        """`[batch, pieces]` ragged values -> `[batch, L]` at the packed positions (shift 1)."""
        dense = per_piece.to_tensor(default_value=0, shape=[None, self.sequence_length - 2])
        batch = tf.shape(token_ids)[0]
        zeros = tf.zeros([batch, 1], dense.dtype)
        return tf.concat([zeros, dense, zeros], axis=1)

    def get_config(self):
        # keras-hub's Preprocessor (de)serialises the tokenizer.
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length})
        return config
