"""Streaming pretraining data: plain-text files -> packed, masked ELECTRA / MLM batches.

Every non-blank line is a sentence. Lines are tokenized in `tf.data`, and consecutive sentences
are packed greedily into `[CLS] s1 s2 ... [SEP]` sequences of at most `sequence_length` tokens
(one segment, padded): a sentence that does not fit in the current sequence starts the next
one, and a line longer than `sequence_length - 2` word pieces is SPLIT into consecutive chunks
(never dropped). Masking is keras-hub's `MaskedLMMaskGenerator`, so batches have the
`ConvBertMaskedLMPreprocessor` layout: `x = {token_ids, segment_ids, padding_mask,
mask_positions}, y = mask_ids, sample_weight = mask_weights`.
"""

import glob
import math
import os

import keras_hub
import tensorflow as tf

TEXT_EXTENSIONS = (".txt", ".text")


def find_text_files(corpus):
    """The text files of `corpus`: a file, a glob, or a directory (`*.txt` / `*.text`, recursive).

    Raises:
        FileNotFoundError: `corpus` does not exist, or a directory holds no text file.
        ValueError: every file is empty or blank.
    """
    corpus = os.fspath(corpus)
    if os.path.isdir(corpus):
        files = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(corpus) for name in names
            if name.lower().endswith(TEXT_EXTENSIONS)
        )
        if not files:
            raise FileNotFoundError(
                f"No text files in directory {corpus!r}: expected files ending in "
                f"{' or '.join(TEXT_EXTENSIONS)} (one sentence per line)."
            )
    elif os.path.isfile(corpus):
        files = [corpus]
    else:
        files = sorted(glob.glob(corpus))
        if not files:
            raise FileNotFoundError(f"Corpus {corpus!r} does not exist.")
    if not any(_has_text(f) for f in files):
        raise ValueError(f"The corpus {corpus!r} is empty: its {len(files)} file(s) hold no "
                         "non-blank line.")
    return files


def _has_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return any(line.strip() for line in f)


def _chunks(token_ids, capacity):
    """Splits one tokenized line into rows of `capacity` (padded) and their lengths."""
    n = tf.shape(token_ids)[0]
    rows = (n + capacity - 1) // capacity
    padded = tf.pad(token_ids, [[0, rows * capacity - n]])
    lengths = tf.minimum(capacity, n - tf.range(rows) * capacity)
    return tf.data.Dataset.from_tensor_slices((tf.reshape(padded, [rows, capacity]), lengths))


def _greedy_pack(dataset, capacity):
    """Packs `(chunk[capacity], length)` elements greedily into `(ids[capacity], length)`.

    A `scan` keeps one open sequence; an element that does not fit emits it. A final
    sentinel (length -1) flushes the last open sequence.
    """
    sentinel = tf.data.Dataset.from_tensors((tf.zeros([capacity], tf.int32), tf.constant(-1)))
    positions = tf.range(capacity)

    def step(state, element):
        buffer, used = state
        chunk, length = element
        emit = (used > 0) & ((used + length > capacity) | (length < 0))
        appended = tf.where(positions < used, buffer,
                            tf.gather(chunk, tf.clip_by_value(positions - used, 0, capacity - 1)))
        appended = tf.where(positions < used + tf.maximum(length, 0), appended, 0)
        new_buffer = tf.where(emit, chunk, appended)
        new_used = tf.where(emit, tf.maximum(length, 0), used + tf.maximum(length, 0))
        return (new_buffer, new_used), (buffer, used, emit)

    initial = (tf.zeros([capacity], tf.int32), tf.constant(0))
    packed = dataset.concatenate(sentinel).scan(initial, step)
    packed = packed.filter(lambda ids, used, emit: emit)
    return packed.map(lambda ids, used, emit: (ids, used))


def packed_sequences(files, tokenizer, sequence_length=128):
    """An unbatched dataset of packed `{token_ids, segment_ids, padding_mask}` (int32, [L]).

    Args:
        files: list of text files (see `find_text_files`).
        tokenizer: a `ConvBertTokenizer`.
        sequence_length: packed length `L` (>= 3), `[CLS]` and `[SEP]` included.
    """
    if sequence_length < 3:
        raise ValueError(f"`sequence_length` must be >= 3, got {sequence_length}.")
    capacity = sequence_length - 2
    lines = tf.data.TextLineDataset(files)
    lines = lines.filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
    tokens = lines.batch(64).map(
        lambda batch: tf.cast(tokenizer(batch), tf.int32), num_parallel_calls=tf.data.AUTOTUNE
    ).unbatch()
    # A line of only characters the tokenizer deletes gives no tokens: nothing to pack.
    tokens = tokens.filter(lambda ids: tf.size(ids) > 0)
    packed = _greedy_pack(tokens.flat_map(lambda ids: _chunks(ids, capacity)), capacity)
    cls_id, sep_id, pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, \
        tokenizer.pad_token_id
    positions = tf.range(sequence_length)

    def finish(ids, used):
        body = tf.concat([[cls_id], ids, [pad_id]], axis=0)
        token_ids = tf.where(positions == used + 1, sep_id,
                             tf.where(positions <= used, body, pad_id))
        padding_mask = tf.cast(positions <= used + 1, tf.int32)
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids),
                "padding_mask": padding_mask}

    return packed.map(finish)


def pretraining_dataset(corpus, tokenizer, sequence_length=128, batch_size=32,
                        mask_selection_rate=0.15, mask_selection_length=None,
                        mask_token_rate=0.8, random_token_rate=0.1, shuffle_buffer=1000,
                        repeat=True, seed=None):
    """Streams `corpus` as masked, packed batches for `ConvBertElectraPretrainer` / MLM.

    Args:
        corpus: a text file, a glob, or a directory of `*.txt` files.
        tokenizer: a `ConvBertTokenizer`.
        sequence_length: packed length (128 as released).
        batch_size: sequences per batch (the last partial batch is dropped: static shapes).
        mask_selection_rate / mask_token_rate / random_token_rate: BERT masking (15%, 80/10/10).
        mask_selection_length: predictions per sequence; None: `ceil(rate * length)`.
        shuffle_buffer: packed sequences shuffled together (0: keep file order).
        repeat: loop over the corpus forever (give `fit` a `steps_per_epoch`).
        seed: shuffle seed.

    Raises:
        FileNotFoundError / ValueError: see `find_text_files`.

    Example:
    >>> ds = pretraining_dataset("corpus/", ConvBertTokenizer(), batch_size=8)
    >>> pretrainer.fit(ds, steps_per_epoch=1000, epochs=10)
    """
    files = find_text_files(corpus)
    if mask_selection_length is None:
        mask_selection_length = max(1, math.ceil(mask_selection_rate * sequence_length))
    masker = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=mask_selection_rate,
        mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=mask_selection_length,
        unselectable_token_ids=sorted(tokenizer.special_token_ids),
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
        _allow_python_workflow=False,
    )
    ds = packed_sequences(files, tokenizer, sequence_length)
    if repeat:
        ds = ds.repeat()
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    width = [batch_size, mask_selection_length]

    def mask(features):
        masked = masker(features["token_ids"])
        x = {
            "token_ids": tf.ensure_shape(tf.cast(masked["token_ids"], tf.int32),
                                         [batch_size, sequence_length]),
            "segment_ids": features["segment_ids"],
            "padding_mask": features["padding_mask"],
            "mask_positions": tf.ensure_shape(tf.cast(masked["mask_positions"], tf.int32),
                                              width),
        }
        y = tf.ensure_shape(tf.cast(masked["mask_ids"], tf.int32), width)
        weights = tf.ensure_shape(tf.cast(masked["mask_weights"], tf.float32), width)
        return x, y, weights

    ds = ds.batch(batch_size, drop_remainder=True)
    return ds.map(mask, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
