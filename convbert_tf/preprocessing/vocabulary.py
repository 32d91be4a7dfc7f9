"""WordPiece vocabularies: the packaged BERT vocabulary and a corpus learner.

The default vocabulary is the 30,522-entry uncased vocabulary of Google's BERT
release, shipped as package data so that it never depends on a checkout layout.
`build_vocabulary` wraps tf.text's BERT vocabulary learner for users who want a
vocabulary fitted to their own corpus; its output always contains the five BERT
special tokens so that it plugs straight into `ConvBertTokenizer`.
"""

import os

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def default_vocabulary_path():
    """Path of the packaged uncased BERT vocabulary (`bert_uncased_vocab.txt`)."""
    # `os.path.dirname(__file__)` rather than `importlib.resources.files` so the
    # path is a real file even from a zipped wheel-less source checkout; the
    # asset is declared as package data in pyproject.toml.
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(package_dir, "assets", "bert_uncased_vocab.txt")


def load_vocabulary(path):
    """Reads a one-token-per-line vocabulary file into a list of strings.

    Only line terminators are stripped: a token may legitimately end in
    whitespace-like characters, and the line index is the token id.
    """
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f]


def build_vocabulary(
    texts,
    vocabulary_size,
    reserved_tokens=None,
    lower_case=True,
    output_path=None,
    upper_thresh=10_000_000,
    lower_thresh=10,
    num_iterations=4,
    max_input_tokens=5_000_000,
    max_token_length=50,
    max_unique_chars=1000,
    batch_size=1024,
):
    """Learns a BERT-style WordPiece vocabulary from a corpus.

    Runs `tensorflow_text.tools.wordpiece_vocab.bert_vocab_from_dataset` over
    the texts after the same BERT normalisation that `ConvBertTokenizer` uses
    (`FastBertTokenizer`'s NFKC case fold + accent stripping when `lower_case`),
    so the learned pieces are exactly the strings the tokenizer will look up.

    Args:
        texts: an iterable of Python strings, a 1D string tensor or a
            `tf.data.Dataset` of scalar or 1D strings.
        vocabulary_size: int, target size. The learner treats it as an
            approximate target; the result may be somewhat smaller or larger.
        reserved_tokens: list of strings placed first (ids 0..n-1). The BERT
            special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` are always added
            (in that order, before other reserved tokens) if missing.
        lower_case: bool, whether to lower-case and strip accents first
            (must match the tokenizer's `lowercase`).
        output_path: optional path; when given the vocabulary is also written
            there, one token per line.
        upper_thresh, lower_thresh, num_iterations, max_input_tokens,
            max_token_length, max_unique_chars: passed to the tf.text learner.
        batch_size: batch size used to stream the corpus.

    Returns:
        A list of token strings; index = token id.

    Example:
    ```python
    vocab = convbert_tf.build_vocabulary(
        ["the quick brown fox", "jumps over the lazy dog"], vocabulary_size=200
    )
    tokenizer = convbert_tf.ConvBertTokenizer(vocabulary=vocab)
    ```
    """
    import tensorflow as tf
    import tensorflow_text as tf_text
    from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

    if not isinstance(vocabulary_size, int) or vocabulary_size <= len(SPECIAL_TOKENS):
        raise ValueError(
            "`vocabulary_size` must be an int larger than the number of special "
            f"tokens ({len(SPECIAL_TOKENS)}). Received: vocabulary_size={vocabulary_size!r}"
        )
    reserved = list(SPECIAL_TOKENS)
    for token in reserved_tokens or []:
        if not isinstance(token, str):
            raise TypeError(
                "`reserved_tokens` must be a list of strings. "
                f"Received an element {token!r}"
            )
        if token not in reserved:
            reserved.append(token)

    if isinstance(texts, tf.data.Dataset):
        dataset = texts
        if dataset.element_spec.shape.rank == 0:
            dataset = dataset.batch(batch_size)
    else:
        if isinstance(texts, str):
            raise TypeError(
                "`texts` must be an iterable of strings, not a single string."
            )
        texts = list(texts) if not tf.is_tensor(texts) else texts
        dataset = tf.data.Dataset.from_tensor_slices(
            tf.constant(texts, dtype=tf.string) if not tf.is_tensor(texts) else texts
        ).batch(batch_size)

    # The learner's own `lower_case` uses ICU case folding; we normalise with
    # the tokenizer's own normaliser instead so both agree byte for byte.
    if lower_case:
        normalizer = tf_text.FastBertNormalizer(lower_case_nfd_strip_accents=True)
        dataset = dataset.map(normalizer.normalize)

    vocab = bert_vocab_from_dataset.bert_vocab_from_dataset(
        dataset,
        vocab_size=vocabulary_size,
        reserved_tokens=reserved,
        bert_tokenizer_params={"lower_case": False},
        learn_params={
            "upper_thresh": upper_thresh,
            "lower_thresh": lower_thresh,
            "num_iterations": num_iterations,
            "max_input_tokens": max_input_tokens,
            "max_token_length": max_token_length,
            "max_unique_chars": max_unique_chars,
        },
    )
    vocab = [t.decode("utf-8") if isinstance(t, bytes) else t for t in vocab]
    if output_path is not None:
        with open(output_path, "w", encoding="utf-8") as f:
            f.writelines(f"{token}\n" for token in vocab)
    return vocab
