"""`FixedLengthPacker`: the packer the fixed-length preprocessors keep in keras-hub's slot."""

from convbert_tf.preprocessing.segment_packing import (
    check_pair_truncation,
    check_sequence_length,
    tflite_friendly_pack,
)


class FixedLengthPacker:
    """Packs 1 or 2 ragged token-id batches into `[CLS] a [SEP] (b [SEP])` of fixed length.

    What keras-hub's preprocessors keep in their `packer` attribute (a `MultiSegmentPacker`
    there); this one packs with `tflite_friendly_pack` so that the same graph runs in
    `tf.data`, a SavedModel and TFLite. `sequence_length` is checked on every assignment.

    Args:
        tokenizer: gives `cls_token_id`, `sep_token_id` and `pad_token_id`.
        sequence_length: int >= 3, the padded length.
        pair_truncation: `"convbert"` (official `_truncate_seq_pair`, default) or
            `"huggingface"` (`tokenizers`' `longest_first`); see `segment_packing`.

    Example:
    >>> packer = FixedLengthPacker(tokenizer, 16)
    >>> packer.pack((tokenizer.tokenize(["hello world"]),))["token_ids"].shape
    TensorShape([1, 16])
    """

    def __init__(self, tokenizer, sequence_length, pair_truncation="convbert"):
        check_pair_truncation(pair_truncation)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.pair_truncation = pair_truncation

    @property
    def sequence_length(self):
        return self.packed_length

    @sequence_length.setter
    def sequence_length(self, value):
        check_sequence_length(value)
        self.packed_length = value

    def pack(self, segments):
        """`segments`: tuple of 1 or 2 ragged `[batch, None]` id tensors -> the model dict."""
        token_ids, segment_ids, padding_mask = tflite_friendly_pack(
            segments,
            self.sequence_length,
            start_id=self.tokenizer.cls_token_id,
            end_id=self.tokenizer.sep_token_id,
            pad_id=self.tokenizer.pad_token_id,
            pair_truncation=self.pair_truncation,
        )
        return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}

    def __call__(self, segments):
        return self.pack(segments)
