"""`ConvBertTokenizer`: BERT's uncased WordPiece tokenizer as a Keras layer.

Built on `tf_text.FastBertTokenizer`, whose normaliser, pre-tokenizer and
WordPiece are all TFLite custom ops registered by
`tf_text.tflite_registrar.SELECT_TFTEXT_OPS`, so the same graph runs in
`tf.data`, in a SavedModel and in a TFLite interpreter.

Normalisation versus the reference BERT tokenizer
-------------------------------------------------
The reference (Google BERT `BasicTokenizer` / Hugging Face `BertTokenizer`,
`do_lower_case=True`) does: drop NUL, U+FFFD and every category-C character
except tab/newline, map whitespace to space, space out CJK ideographs,
`str.lower()`, NFD, drop category-Mn marks, split on punctuation, WordPiece
with words over 100 *characters* -> `[UNK]`.

Control and format characters are first deleted as BERT does
(`text_hygiene.clean_text`, one regex), so "Iraq\u00e2\x80\x99s" (GLUE RTE)
reads `iraq ##as` as in BERT, not `iraq ##a s`; a graph traced for TFLite
skips that step (no regex kernel) and the TFLite predictor cleans on the host.
`FastBertTokenizer(lower_case_nfd_strip_accents=True)` then case-folds with
NFKC_Casefold and uses Unicode/ICU tables of an older version. Measured over
all 1,112,064 scalar values (`tests/preprocessing/make_tokenizer_fixture.py
--unicode-report`, numbers in `docs/preprocessing.md` and
`tests/preprocessing/data/normalization_report.json`), the remaining
differences are NFKC compatibility characters (fullwidth forms, ligatures,
Roman numerals...: FastBert folds them, the reference keeps them), full case
folding (ß -> "ss"), code points newer than FastBert's tables, and unassigned
ones. Every printable ASCII character, every Latin-1 letter except ß and all
CJK ideographs of the BMP agree. Making these exact too would need
per-code-point rewriting that TFLite cannot run, so they stay documented.

One difference *is* fixed here because it matters for real text in non-Latin
scripts: FastBert's `max_bytes_per_word` counts UTF-8 bytes, BERT's limit
counts characters (100). We let FastBert accept up to 4*100 bytes and then
collapse every word whose pieces sum to more than 100 characters into one
`[UNK]`, with builtins-only ops (gather, cumsum, segment sums, boolean mask).

Invalid UTF-8 never raises: FastBert maps the offending word to `[UNK]`.
"""

import os

import keras
import keras_hub
import tensorflow as tf
import tensorflow_text as tf_text

from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.host_outputs import host_outputs
from convbert_tf.preprocessing.text_hygiene import clean_text
from convbert_tf.preprocessing.text_validation import check_string_tensor
from convbert_tf.preprocessing.vocabulary import default_vocabulary_path, load_vocabulary

VOCAB_FILENAME = "vocabulary.txt"
# BERT's `max_input_chars_per_word`.
MAX_WORD_CHARS = 100
# keras-hub's attribute names for BERT's special tokens (`cls_token`, `cls_token_id`, ...).
SPECIAL_TOKEN_ATTRIBUTES = {
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "mask_token": "[MASK]",
    "unk_token": "[UNK]",
}
# UTF-8 uses at most 4 bytes per character.
_MAX_BYTES_PER_CHAR = 4


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertTokenizer(HfPresetMixin, keras_hub.tokenizers.Tokenizer):
    """BERT uncased WordPiece tokenizer over `tf_text.FastBertTokenizer`.

    Strings go in, ragged int token ids come out (no `[CLS]`/`[SEP]`; packing
    is the preprocessor's job). Lower-casing, accent stripping, CJK and
    punctuation splitting and WordPiece follow BERT; see the module docstring
    for the exact, measured differences in Unicode normalisation.

    Args:
        vocabulary: `None` for the packaged 30,522-token uncased BERT
            vocabulary, a path to a one-token-per-line file, or a list of
            strings. Must contain `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`.
        lowercase: bool. `True` (default) lower-cases and strips accents like
            BERT uncased; `False` only does BERT's splitting (cased vocabs).
        max_word_length: int, words longer than this many characters become
            `[UNK]`, as BERT's `max_input_chars_per_word` (default 100).
        dtype: output dtype of token ids, `"int32"` (default) or `"int64"`.

    Example:
    ```python
    tokenizer = convbert_tf.ConvBertTokenizer()
    tokenizer("The quick brown fox.")          # [1996, 4248, 2829, 4419, 1012]
    tokenizer(["Hello world", "Héllo!"])       # ragged batch
    tokenizer.detokenize([[7592, 2088]])       # ["hello world"]
    ```
    """

    backbone_cls = ConvBertBackbone

    def __init__(self, vocabulary=None, lowercase=True, max_word_length=MAX_WORD_CHARS,
                 dtype="int32", **kwargs):
        if dtype not in ("int32", "int64"):
            raise ValueError(f"`dtype` must be 'int32' or 'int64'. Received: dtype={dtype!r}")
        if not isinstance(max_word_length, int) or max_word_length < 1:
            raise ValueError(
                "`max_word_length` must be a positive int. "
                f"Received: max_word_length={max_word_length!r}"
            )
        super().__init__(dtype=dtype, **kwargs)
        self.lowercase = bool(lowercase)
        self.max_word_length = max_word_length
        # keras-hub's packers, maskers and preprocessors read `<name>` / `<name>_id` and
        # `special_tokens` / `special_token_ids` (defined below from this table).
        for name, token in SPECIAL_TOKEN_ATTRIBUTES.items():
            setattr(self, name, token)
            setattr(self, f"{name}_id", None)
        self.start_token_id = None
        self.end_token_id = None
        self.set_vocabulary(vocabulary)
        self.file_assets = [VOCAB_FILENAME]

    # ------------------------------------------------------------ vocabulary
    def set_vocabulary(self, vocabulary):
        """Sets the vocabulary from `None` (default), a file path or a list."""
        self._is_default_vocabulary = vocabulary is None
        if vocabulary is None:
            vocabulary = load_vocabulary(default_vocabulary_path())
        elif isinstance(vocabulary, str):
            if not os.path.isfile(vocabulary):
                raise ValueError(
                    "`vocabulary` must be None, a path to an existing vocabulary "
                    f"file or a list of strings. No file at: {vocabulary!r}"
                )
            vocabulary = load_vocabulary(vocabulary)
        elif isinstance(vocabulary, (list, tuple)) and all(isinstance(t, str) for t in vocabulary):
            vocabulary = list(vocabulary)
        else:
            raise ValueError(
                "`vocabulary` must be None, a file path or a list of strings. "
                f"Received: vocabulary of type {type(vocabulary).__name__}"
            )
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("`vocabulary` contains duplicate tokens.")
        self.vocabulary = vocabulary
        self.token_index = {t: i for i, t in enumerate(vocabulary)}
        missing = [token for token in SPECIAL_TOKEN_ATTRIBUTES.values()
                   if token not in self.token_index]
        if missing:
            raise ValueError(
                f"`vocabulary` lacks the special token(s) {missing}; ConvBertTokenizer "
                "needs [PAD], [UNK], [CLS], [SEP] and [MASK]."
            )
        for name, token in SPECIAL_TOKEN_ATTRIBUTES.items():
            setattr(self, f"{name}_id", self.token_index[token])
        self.start_token_id = self.cls_token_id
        self.end_token_id = self.sep_token_id
        self._build_tf_tables()

    def _build_tf_tables(self):
        self._fast_bert = tf_text.FastBertTokenizer(
            vocab=self.vocabulary,
            token_out_type=tf.int64 if self.compute_dtype == "int64" else tf.int32,
            unknown_token=self.unk_token,
            max_bytes_per_word=_MAX_BYTES_PER_CHAR * self.max_word_length,
            lower_case_nfd_strip_accents=self.lowercase,
            support_detokenization=True,
        )
        # Per-id character length without the "##" marker, and whether the id
        # starts a word: the inputs of the word-length rule in `_limit_words`.
        lengths, starts = [], []
        for token in self.vocabulary:
            is_suffix = token.startswith("##") and len(token) > 2
            starts.append(not is_suffix)
            lengths.append(len(token) - 2 if is_suffix else len(token))
        self._piece_chars = tf.constant(lengths, tf.int32)
        self._piece_starts_word = tf.constant(starts, tf.bool)

    @property
    def special_tokens(self):
        """`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`, `[UNK]`."""
        return list(SPECIAL_TOKEN_ATTRIBUTES.values())

    @property
    def special_token_ids(self):
        """The ids of `special_tokens` in the vocabulary."""
        return [getattr(self, f"{name}_id") for name in SPECIAL_TOKEN_ATTRIBUTES]

    def get_vocabulary(self):
        return list(self.vocabulary)

    def vocabulary_size(self):
        return len(self.vocabulary)

    def id_to_token(self, id):
        if not isinstance(id, int) or not 0 <= id < len(self.vocabulary):
            raise ValueError(
                f"`id` must be an int in [0, {len(self.vocabulary) - 1}]. Received: id={id!r}"
            )
        return self.vocabulary[id]

    def token_to_id(self, token):
        if token not in self.token_index:
            raise ValueError(f"`token` {token!r} is not in the vocabulary.")
        return self.token_index[token]

    def save_assets(self, dir_path):
        with open(os.path.join(dir_path, VOCAB_FILENAME), "w", encoding="utf-8") as f:
            f.writelines(f"{token}\n" for token in self.vocabulary)

    def load_assets(self, dir_path):
        self.set_vocabulary(os.path.join(dir_path, VOCAB_FILENAME))

    # ---------------------------------------------------------- tokenization
    def _limit_words(self, tokens):
        """Collapses words over `max_word_length` characters into one `[UNK]`.

        Works on the flat values of the ragged result with builtins only, so
        the TFLite graph keeps BERT's character (not byte) word limit.
        """
        ids = tokens.flat_values
        ids32 = tf.cast(ids, tf.int32)
        row_splits = tf.cast(tokens.row_splits, tf.int32)
        n = tf.shape(ids32)[0]
        # The first token of a row always starts a word, whatever its id.
        row_starts = tf.scatter_nd(
            tf.expand_dims(row_splits[:-1], 1),
            tf.ones_like(row_splits[:-1]),
            tf.expand_dims(n + 1, 0),
        )[:n] > 0
        starts = tf.logical_or(tf.gather(self._piece_starts_word, ids32), row_starts)
        word_index = tf.cumsum(tf.cast(starts, tf.int32)) - 1
        word_chars = tf.math.unsorted_segment_sum(
            tf.gather(self._piece_chars, ids32), word_index, num_segments=n
        )
        too_long = tf.gather(word_chars, word_index) > self.max_word_length
        keep = tf.logical_or(starts, tf.logical_not(too_long))
        new_ids = tf.where(
            tf.logical_and(starts, too_long), tf.cast(self.unk_token_id, ids.dtype), ids
        )
        row_index = tf.cumsum(
            tf.scatter_nd(
                tf.expand_dims(row_splits[1:-1], 1),
                tf.ones_like(row_splits[1:-1]),
                tf.expand_dims(n + 1, 0),
            )[:n]
        )
        n_rows = tf.shape(row_splits)[0] - 1
        new_lengths = tf.math.unsorted_segment_sum(
            tf.cast(keep, tf.int32), row_index, num_segments=n_rows
        )
        return tf.RaggedTensor.from_row_lengths(
            tf.boolean_mask(new_ids, keep), tf.cast(new_lengths, tokens.row_splits.dtype),
            validate=False,
        )

    def tokenize(self, inputs):
        """Tokenizes a string or a batch of strings into (ragged) token ids."""
        inputs = check_string_tensor(inputs, "inputs")
        unbatched = inputs.shape.rank == 0
        if unbatched:
            inputs = tf.expand_dims(inputs, 0)
        if inputs.shape.rank != 1:
            raise ValueError(
                "`inputs` must be a scalar string or a 1D batch of strings. "
                f"Received shape {inputs.shape}"
            )
        # BERT deletes control/format characters; FastBert alone splits words on them.
        tokens = self._fast_bert.tokenize(clean_text(inputs))
        tokens = self._limit_words(tokens)
        if unbatched:
            tokens = tokens[0]
        return tokens

    def call(self, inputs, *args, training=None, **kwargs):
        # TF tensors in tf.data and on the TensorFlow backend, NumPy / lists inside Grain,
        # the backend's tensors on JAX / PyTorch: keras-hub's contract (see host_outputs).
        with tf.device("cpu"):
            return host_outputs(self.tokenize(inputs))

    def detokenize(self, inputs):
        """Turns token ids back into space-joined, "##"-merged strings."""
        inputs = tf.ragged.constant(inputs) if isinstance(inputs, list) else inputs
        unbatched = inputs.shape.rank == 1
        if unbatched:
            inputs = tf.expand_dims(inputs, 0) if not isinstance(inputs, tf.RaggedTensor) \
                else tf.RaggedTensor.from_tensor(tf.expand_dims(inputs, 0))
        # FastBert already merges "##" pieces and joins words with spaces.
        text = self._fast_bert.detokenize(inputs)
        return text[0] if unbatched else text

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                # The default vocab is package data; a custom one is inlined so
                # plain get_config/from_config round-trips, and is also saved
                # as an asset by `save_assets` for `.keras` / presets.
                "vocabulary": None if self._is_default_vocabulary else list(self.vocabulary),
                "lowercase": self.lowercase,
                "max_word_length": self.max_word_length,
            }
        )
        return config
