"""`tflite_friendly_pack`: `[CLS] a [SEP] (b [SEP])` packing with TFLite builtins.

`tf_text.combine_segments` and `tf_text.pad_model_inputs` lower to
`RaggedRange`/`RaggedGather`, which have no TFLite kernel, and keras-hub's
`MultiSegmentPacker` uses them. This packer only needs the lengths of the
ragged rows, `RaggedTensor.to_tensor(shape=[None, L])` (the tf.text
`RaggedTensorToTensor` custom op) and dense arithmetic + one batched gather,
so the same function serves training (`tf.data`), SavedModel and TFLite.

Pairs are truncated longest first. Two rules differ only in who gets the odd token when both
segments are long (budget `B = L - 3` odd, both longer than `B / 2`):

* `pair_truncation="convbert"` (default): the official ConvBERT / ELECTRA / BERT
  `_truncate_seq_pair` (pop from the longer segment, from the second at a tie). The first
  segment keeps `ceil(B / 2)`: `len_a' = min(len_a, max(ceil(B / 2), B - len_b))`,
  `len_b' = min(len_b, B - len_a')`.
* `pair_truncation="huggingface"`: Hugging Face `tokenizers`' `longest_first` (what a fast
  `BertTokenizer` does): the *longer* segment keeps `ceil(B / 2)`, the second one at a tie.

E.g. `L = 32` (`B = 29`), 40 + 40 tokens: convbert keeps 15 + 14, huggingface 14 + 15; 15 + 16
tokens: convbert 15 + 14, huggingface 14 + 15 (measured with `tokenizers` 0.23.3).
"""

import tensorflow as tf

PAIR_TRUNCATIONS = ("convbert", "huggingface")


def check_sequence_length(sequence_length, minimum=3):
    """Raises a `ValueError` naming `sequence_length` unless it is an int >= `minimum`.

    The one check every preprocessor, the packer, `tflite_friendly_pack` and the export's serving
    functions use; `minimum` is 3 for `[CLS] a
    [SEP]` with one token, more where a layout needs more room (SQuAD windows).
    """
    if isinstance(sequence_length, bool) or not isinstance(sequence_length, int) \
            or sequence_length < minimum:
        raise ValueError(
            f"`sequence_length` must be an int >= {minimum} (room for [CLS], [SEP] and at "
            f"least one token). Received: sequence_length={sequence_length!r}"
        )


def check_pair_truncation(pair_truncation):
    """Raises a `ValueError` naming `pair_truncation` unless it is a known rule."""
    if pair_truncation not in PAIR_TRUNCATIONS:
        raise ValueError(
            f"`pair_truncation` must be one of {PAIR_TRUNCATIONS} ('convbert': the official "
            "_truncate_seq_pair, first segment keeps the odd token; 'huggingface': tokenizers' "
            f"longest_first, the longer one keeps it). Received: {pair_truncation!r}"
        )


def truncated_lengths(lengths, sequence_length, pair_truncation="convbert"):
    """Longest-first lengths of 1 or 2 segments after reserving special tokens.

    Args:
        lengths: list of 1 or 2 int32 tensors `[batch]`, the segment lengths.
        sequence_length: int, the packed length including `[CLS]`/`[SEP]`.
        pair_truncation: `"convbert"` or `"huggingface"`: who keeps the odd token when both
            segments are long (see the module docstring).

    Returns:
        A list with one int32 tensor `[batch]` per segment.

    Example:
    >>> [int(n[0]) for n in truncated_lengths([tf.constant([40]), tf.constant([40])], 32)]
    [15, 14]
    >>> [int(n[0]) for n in truncated_lengths([tf.constant([40]), tf.constant([40])], 32,
    ...                                       pair_truncation="huggingface")]
    [14, 15]
    """
    check_pair_truncation(pair_truncation)
    if len(lengths) == 1:
        return [tf.minimum(lengths[0], sequence_length - 2)]
    if len(lengths) != 2:
        raise ValueError(f"Only 1 or 2 segments can be packed. Received {len(lengths)}.")
    budget = sequence_length - 3
    len_a, len_b = lengths
    half_up = (budget + 1) // 2
    new_a = tf.minimum(len_a, tf.maximum(half_up, budget - len_b))
    new_b = tf.minimum(len_b, budget - new_a)
    if pair_truncation == "convbert":
        return [new_a, new_b]
    # Hugging Face: the same rule with the roles swapped unless the first is strictly longer.
    b_first = tf.minimum(len_b, tf.maximum(half_up, budget - len_a))
    a_second = tf.minimum(len_a, budget - b_first)
    a_longer = len_a > len_b
    return [tf.where(a_longer, new_a, a_second), tf.where(a_longer, new_b, b_first)]


def tflite_friendly_pack(segments, sequence_length, start_id, end_id, pad_id,
                         pair_truncation="convbert"):
    """Packs 1 or 2 batches of ragged token ids into fixed-length model inputs.

    Args:
        segments: tuple/list of 1 or 2 `tf.RaggedTensor`s of shape
            `[batch, None]` and integer dtype; all with the same batch size.
        sequence_length: int >= 3, the fixed output length `L`.
        start_id, end_id, pad_id: ints, ids of `[CLS]`, `[SEP]`, `[PAD]`.
        pair_truncation: `"convbert"` (default) or `"huggingface"`, see `truncated_lengths`.

    Returns:
        `(token_ids, segment_ids, padding_mask)`, int32 tensors `[batch, L]`.

    Example:
    ```python
    a = tf.ragged.constant([[7, 8, 9], [5]])
    b = tf.ragged.constant([[4], [6, 6]])
    ids, seg, mask = tflite_friendly_pack((a, b), 8, 101, 102, 0)
    # ids[0] = [101, 7, 8, 9, 102, 4, 102, 0]
    ```
    """
    segments = list(segments)
    check_sequence_length(sequence_length)
    L = sequence_length
    lengths = [tf.cast(s.row_lengths(), tf.int32) for s in segments]
    kept = truncated_lengths(lengths, L, pair_truncation)
    # Fixed-width dense views; `to_tensor(shape=...)` also cuts rows longer
    # than L without any ragged slicing op.
    dense = [tf.cast(s.to_tensor(default_value=pad_id, shape=[None, L]), tf.int32) for s in segments]

    positions = tf.range(L, dtype=tf.int32)[tf.newaxis, :]  # [1, L]
    len_a = kept[0][:, tf.newaxis]  # [B, 1]
    end_a = len_a + 1  # position of the first [SEP]
    # Index into concat(a, b) for each output position; clipped so the gather
    # is always in range, and overridden below where a special token goes.
    index = tf.clip_by_value(positions - 1, 0, L - 1) + tf.zeros_like(len_a)
    in_a = (positions >= 1) & (positions < end_a)
    token_ids = tf.where(in_a, tf.gather(dense[0], index, batch_dims=1), pad_id)
    token_ids = tf.where(positions == 0, start_id, token_ids)
    token_ids = tf.where(positions == end_a, end_id, token_ids)
    segment_ids = tf.zeros_like(token_ids)
    total = end_a + 1
    if len(segments) == 2:
        len_b = kept[1][:, tf.newaxis]
        start_b = end_a + 1
        end_b = start_b + len_b
        index_b = tf.clip_by_value(positions - start_b, 0, L - 1)
        in_b = (positions >= start_b) & (positions < end_b)
        token_ids = tf.where(in_b, tf.gather(dense[1], index_b, batch_dims=1), token_ids)
        token_ids = tf.where(positions == end_b, end_id, token_ids)
        # 1 on start_b..end_b, by integer arithmetic: a `cast(bool)` here is folded by the
        # TFLite converter (through the segment Embedding's range check) into a boolean
        # `tfl.zeros_like`, which has no kernel.
        after_start = tf.minimum(tf.maximum(positions - start_b + 1, 0), 1)
        before_end = tf.minimum(tf.maximum(end_b + 1 - positions, 0), 1)
        segment_ids = after_start * before_end
        total = end_b + 1
    padding_mask = tf.cast(positions < total, tf.int32)
    return token_ids, segment_ids, padding_mask
