"""Streaming pretraining data: plain-text files -> packed, masked ELECTRA / MLM batches.

Every non-blank line is a sentence. Lines are tokenized in `tf.data`, and consecutive sentences
are packed greedily into `[CLS] s1 s2 ... [SEP]` sequences of at most `sequence_length` tokens
(one segment, padded): a sentence that does not fit in the current sequence starts the next
one, and a line longer than `sequence_length - 2` word pieces is SPLIT into consecutive chunks
(never dropped). Batches have the `ConvBertMaskedLMPreprocessor` layout: `x = {token_ids,
segment_ids, padding_mask, mask_positions}, y = mask_ids, sample_weight = mask_weights`.

Every batch is a pure function of `(corpus, seed, batch index)`: the shuffle is seeded and the
masks are drawn with stateless random ops seeded by `(seed, batch index)` (`mask_tokens`), not
with keras-hub's `MaskedLMMaskGenerator`, whose stateful generator cannot be replayed. That is
what lets a killed pretraining run resume at `start_batch` with exactly the batches an
uninterrupted run would have seen.
"""

import codecs
import glob
import math
import os
import warnings

import tensorflow as tf

from convbert_tf.preprocessing.segment_packing import check_sequence_length

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
    with_text = [f for f in files if _check_text_file(f)]
    if not with_text:
        raise ValueError(f"The corpus {corpus!r} is empty: its {len(files)} file(s) hold no "
                         "non-blank line.")
    if len(with_text) < len(files):
        warnings.warn(f"Skipping {len(files) - len(with_text)} of {len(files)} corpus file(s) "
                      "that hold no non-blank line.", stacklevel=2)
    return with_text


def _check_text_file(path, chunk_size=1 << 20):
    """True if `path` holds a non-blank line; raises on binary or non-UTF-8 content.

    The whole file is read once (in 1 MiB chunks): a bad byte deep in a corpus would otherwise
    stop a run hours later inside the tokenizer.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    has_text, offset = False, 0
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            if b"\x00" in chunk:
                raise ValueError(f"Corpus file {path!r} looks binary (NUL byte at offset "
                                 f"{offset + chunk.index(0)}): expected UTF-8 text, one "
                                 "sentence per line.")
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise ValueError(f"Corpus file {path!r} is not UTF-8: invalid byte at offset "
                                 f"{offset + error.start}. Convert it first, e.g. "
                                 "`iconv -f latin1 -t utf-8`.") from None
            has_text = has_text or bool(text.strip())
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValueError(f"Corpus file {path!r} is not UTF-8: it ends inside a multi-byte "
                         "character.") from None
    return has_text


def unknown_token_rate(files, tokenizer, max_lines=2000):
    """The share of `[UNK]` word pieces in the first `max_lines` non-blank lines of `files`."""
    lines = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines.extend(line for line in f if line.strip())
        if len(lines) >= max_lines:
            break
    ids = tokenizer(tf.constant(lines[:max_lines])).flat_values
    if int(tf.size(ids)) == 0:
        return 0.0
    return float(tf.reduce_mean(tf.cast(ids == tokenizer.unk_token_id, tf.float32)))


_MAX_RUN_WORDS = 80  # longer lines skip the fast path (their word runs cost O(words^2))


def full_sentences(lines):
    """The distinct lines that are not a substring of a longer line, longest first.

    Phrase-level corpora (SST-2's train file holds every parse-tree phrase of its sentences:
    6,884 of its 66,978 distinct lines are not part of another) turn into repetitive "phrase
    soup" when packed; this keeps the full sentences.

    Example:
    >>> full_sentences(["a funny film", "funny film", "dull"])
    ['a funny film', 'dull']
    """
    kept, joined, pending = [], "", []
    # Fast path: a parse-tree phrase is a run of its sentence's words. The word runs of every
    # kept (single-spaced) line go into a set, so most phrases are dropped by one lookup and
    # only the lines that survive it pay the substring scan (SST-2's train file: 2.9x faster,
    # same result).
    runs = set()
    for line in sorted(set(lines), key=len, reverse=True):
        if line in runs or line in joined or any(line in other for other in pending):
            continue
        kept.append(line)
        pending.append(line)
        words = line.split(" ")
        if len(words) <= _MAX_RUN_WORDS and "" not in words:
            runs.update(" ".join(words[i:j]) for i in range(len(words))
                        for j in range(i + 1, len(words) + 1))
        if len(pending) > 200:  # search one big string, not thousands of small ones
            joined += "\n".join(pending) + "\n"
            pending = []
    return kept


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


def _close_row(ids, used, sep_id, pad_id):
    """`ids` (`[CLS]` at 0, body at `1..used`) -> `[CLS] body [SEP] pad...` and its mask."""
    positions = tf.range(tf.shape(ids)[0])
    token_ids = tf.where(positions == used + 1, sep_id,
                         tf.where(positions <= used, ids, pad_id))
    return token_ids, tf.cast(positions <= used + 1, tf.int32)


def packed_sequences(files, tokenizer, sequence_length=128):
    """An unbatched dataset of packed `{token_ids, segment_ids, padding_mask}` (int32, [L]).

    Args:
        files: list of text files (see `find_text_files`).
        tokenizer: a `ConvBertTokenizer`.
        sequence_length: packed length `L` (>= 3), `[CLS]` and `[SEP]` included.
    """
    check_sequence_length(sequence_length)
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

    def finish(ids, used):
        token_ids, padding_mask = _close_row(tf.concat([[cls_id], ids, [pad_id]], axis=0),
                                             used, sep_id, pad_id)
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids),
                "padding_mask": padding_mask}

    return packed.map(finish)


def shorten_sequences(sequences, short_sequence_rate, seed, *, sep_token_id, pad_token_id):
    """Truncates a seeded `rate` of packed sequences to a random length, as BERT and ELECTRA do.

    Packed pretraining rows are always full, but fine-tuning inputs are mostly padding: a model
    that never saw `[SEP]` followed by padding meets it first on the downstream task, and
    ConvBERT's convolution branch (which has no padding mask, like the reference) reads the
    padding next to the last tokens. BERT's and ELECTRA's data builders therefore make 10% of
    their rows shorter (`short_seq_prob=0.1`, target length uniform in `[2, L - 2]`); this does
    the same after packing. Row `i`'s decision and length come from stateless random ops seeded
    by `(seed, i)`, so the stream stays replayable from any batch.

    Args:
        sequences: the unbatched `{token_ids, segment_ids, padding_mask}` dataset of
            `packed_sequences`.
        short_sequence_rate: share of rows shortened, in `[0, 1]`.
        seed: int seed.
        sep_token_id / pad_token_id: from the tokenizer.

    Returns:
        A dataset of the same structure; a shortened row keeps its first `n` body tokens
        (`n` uniform in `[2, L - 2]`, at most the row's own length), then `[SEP]` and padding.

    Example:
    >>> rows = shorten_sequences(packed_sequences(files, tokenizer, 64), 0.1, seed=0,
    ...                          sep_token_id=102, pad_token_id=0)
    """
    rate = short_sequence_rate
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
        raise ValueError(f"`short_sequence_rate` must be in [0, 1], got {rate!r}.")
    if rate == 0.0:
        return sequences

    def shorten(index, row):
        length = tf.shape(row["token_ids"])[0]
        draw = tf.random.stateless_uniform(
            [2], tf.stack([tf.constant(seed, tf.int64), index]))
        used = tf.reduce_sum(row["padding_mask"]) - 2   # body tokens between [CLS] and [SEP]
        target = 2 + tf.cast(draw[1] * tf.cast(length - 3, tf.float32), tf.int32)
        new_used = tf.where(draw[0] < rate, tf.minimum(used, target), used)
        token_ids, padding_mask = _close_row(row["token_ids"], new_used, sep_token_id,
                                             pad_token_id)
        return {**row, "token_ids": token_ids,
                "padding_mask": tf.cast(padding_mask, row["padding_mask"].dtype)}

    return sequences.enumerate().map(shorten)


def mask_tokens(token_ids, padding_mask, seed, *, vocabulary_size, mask_token_id,
                special_token_ids, mask_selection_rate=0.15, mask_selection_length=20,
                mask_token_rate=0.8, random_token_rate=0.1):
    """BERT / ELECTRA masking of a batch with stateless random ops (replayable from `seed`).

    Per row, `max(1, round(rate * n))` of the `n` real, non-special tokens are selected (at most
    `mask_selection_length`); of those, `mask_token_rate` become `[MASK]`, `random_token_rate` a
    uniformly random id, the rest stay. Positions are sorted and padded with 0 (position 0
    holds `[CLS]`, which is never selected), like keras-hub's `MaskedLMMaskGenerator`.

    Args:
        token_ids: int32 `[B, L]`.
        padding_mask: int `[B, L]`, 1 for real tokens.
        seed: int32 `[2]` stateless seed.
        vocabulary_size / mask_token_id / special_token_ids: from the tokenizer.
        mask_selection_rate, mask_selection_length, mask_token_rate, random_token_rate: as in
            BERT (0.15, 20, 0.8, 0.1).

    Returns:
        `(masked_token_ids [B, L], mask_positions [B, M], mask_ids [B, M],
        mask_weights [B, M])`, with `M = mask_selection_length`.

    Example:
    >>> ids = tf.constant([[101, 7592, 2088, 102, 0]])
    >>> mask_tokens(ids, tf.cast(ids > 0, tf.int32), tf.constant([0, 1]), vocabulary_size=30522,
    ...             mask_token_id=103, special_token_ids=[0, 100, 101, 102, 103],
    ...             mask_selection_length=2)[1].shape
    TensorShape([1, 2])
    """
    token_ids = tf.cast(token_ids, tf.int32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=4)
    selectable = tf.cast(padding_mask, tf.bool)
    for special in special_token_ids:
        selectable &= token_ids != special
    scores = tf.random.stateless_uniform(tf.shape(token_ids), seeds[0])
    scores = tf.where(selectable, scores, 2.0)          # unselectable tokens sort last
    count = tf.reduce_sum(tf.cast(selectable, tf.int32), axis=1)
    wanted = tf.maximum(1, tf.cast(tf.round(tf.cast(count, tf.float32) * mask_selection_rate),
                                   tf.int32))
    wanted = tf.minimum(tf.minimum(wanted, count), mask_selection_length)
    width = tf.minimum(mask_selection_length, tf.shape(token_ids)[1])
    order = tf.argsort(scores, axis=1, stable=True)[:, :width]
    slots = tf.range(width)[None, :]
    valid = slots < wanted[:, None]
    # Sorted positions with the padding (a large sentinel, then 0) at the end.
    positions = tf.sort(tf.where(valid, order, tf.shape(token_ids)[1]), axis=1)
    positions = tf.where(slots < wanted[:, None], positions, 0)
    pad = mask_selection_length - width
    positions = tf.pad(positions, [[0, 0], [0, pad]])
    valid = tf.pad(valid, [[0, 0], [0, pad]])
    mask_ids = tf.where(valid, tf.gather(token_ids, positions, batch_dims=1), 0)

    choice = tf.random.stateless_uniform(tf.shape(positions), seeds[1])
    random_ids = tf.random.stateless_uniform(tf.shape(positions), seeds[2], minval=0,
                                             maxval=vocabulary_size, dtype=tf.int32)
    replacement = tf.where(choice < mask_token_rate, mask_token_id,
                           tf.where(choice < mask_token_rate + random_token_rate, random_ids,
                                    mask_ids))
    # One-hot scatter (positions are distinct within a row; padded slots are dropped).
    onehot = tf.one_hot(positions, tf.shape(token_ids)[1], dtype=tf.int32) * tf.cast(
        valid, tf.int32)[:, :, None]
    changed = tf.reduce_sum(onehot, axis=1) > 0
    scattered = tf.reduce_sum(onehot * replacement[:, :, None], axis=1)
    masked = tf.where(changed, scattered, token_ids)
    return masked, positions, mask_ids, tf.cast(valid, tf.float32)


def pretraining_dataset(corpus, tokenizer, sequence_length=128, batch_size=32,
                        mask_selection_rate=0.15, mask_selection_length=None,
                        mask_token_rate=0.8, random_token_rate=0.1, shuffle_buffer=1000,
                        repeat=True, seed=0, start_batch=0, max_unknown_rate=0.05,
                        short_sequence_rate=0.1):
    """Streams `corpus` as masked, packed batches for `ConvBertElectraPretrainer` / MLM.

    Batch `i` depends only on `(corpus, seed, i)` (see the module docstring), so
    `start_batch=n` yields exactly the batches `n, n+1, ...` of a fresh stream: resuming
    re-reads (tokenizes and packs) the skipped part of the corpus once, but trains on none of it.

    Args:
        corpus: a text file, a glob, or a directory of `*.txt` files (UTF-8).
        tokenizer: a `ConvBertTokenizer`.
        sequence_length: packed length (128 as released).
        batch_size: sequences per batch (the last partial batch is dropped: static shapes).
        mask_selection_rate / mask_token_rate / random_token_rate: BERT masking (15%, 80/10/10).
        mask_selection_length: predictions per sequence; None: `ceil(rate * length)`.
        shuffle_buffer: packed sequences shuffled together (0: keep file order).
        repeat: loop over the corpus forever (give `fit` a `steps_per_epoch`).
        seed: int seed of the shuffle and the masks.
        start_batch: index of the first batch (resume).
        max_unknown_rate: warn when more than this share of the corpus' word pieces (measured
            on its first 2,000 lines) is `[UNK]`: the vocabulary does not fit the text.
        short_sequence_rate: share of packed rows truncated to a random length so that the
            model sees `[SEP]` and padding as fine-tuning inputs have them (BERT's and
            ELECTRA's `short_seq_prob`, 0.1; see `shorten_sequences`).

    Raises:
        FileNotFoundError / ValueError: see `find_text_files`; ValueError when the corpus
            packs into fewer than `batch_size` sequences.

    Example:
    >>> ds = pretraining_dataset("corpus/", ConvBertTokenizer(), batch_size=8)
    >>> pretrainer.fit(ds, steps_per_epoch=1000, epochs=10)
    """
    check_sequence_length(sequence_length)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int, got {batch_size!r}.")
    if not isinstance(start_batch, int) or start_batch < 0:
        raise ValueError(f"`start_batch` must be an int >= 0, got {start_batch!r}.")
    files = find_text_files(corpus)
    unknown = unknown_token_rate(files, tokenizer)
    if unknown > max_unknown_rate:
        warnings.warn(f"{unknown:.1%} of the corpus' word pieces are [UNK] (first 2,000 "
                      f"lines of {corpus!r}): the vocabulary does not cover this text "
                      "(another language or casing?). Build a vocabulary for it.", stacklevel=2)
    if mask_selection_length is None:
        mask_selection_length = max(1, math.ceil(mask_selection_rate * sequence_length))
    sequences = packed_sequences(files, tokenizer, sequence_length)
    available = int(sequences.take(batch_size).reduce(0, lambda n, _: n + 1))
    if available < batch_size:
        raise ValueError(f"The corpus {corpus!r} packs into only {available} sequence(s) of "
                         f"{sequence_length} tokens, fewer than one batch ({batch_size}): use "
                         "a larger corpus or a smaller `batch_size` / `sequence_length`.")
    ds = sequences.repeat() if repeat else sequences
    # After `repeat`: each pass over the corpus shortens other rows (row index keeps counting).
    ds = shorten_sequences(ds, short_sequence_rate, seed, sep_token_id=tokenizer.sep_token_id,
                           pad_token_id=tokenizer.pad_token_id)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=False)
    ds = ds.batch(batch_size, drop_remainder=True).enumerate()
    if start_batch:
        ds = ds.skip(start_batch)
    width = [batch_size, mask_selection_length]
    special_ids = sorted(tokenizer.special_token_ids)

    def mask(index, features):
        masked, positions, mask_ids, weights = mask_tokens(
            features["token_ids"], features["padding_mask"],
            tf.stack([tf.constant(seed, tf.int64), index]),
            vocabulary_size=tokenizer.vocabulary_size(), mask_token_id=tokenizer.mask_token_id,
            special_token_ids=special_ids, mask_selection_rate=mask_selection_rate,
            mask_selection_length=mask_selection_length, mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
        )
        x = {
            "token_ids": tf.ensure_shape(masked, [batch_size, sequence_length]),
            "segment_ids": features["segment_ids"],
            "padding_mask": features["padding_mask"],
            "mask_positions": tf.ensure_shape(positions, width),
        }
        return x, tf.ensure_shape(mask_ids, width), tf.ensure_shape(weights, width)

    return ds.map(mask, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
