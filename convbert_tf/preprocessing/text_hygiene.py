"""BERT's text clean-up (control and format characters) before `FastBertTokenizer`.

Google BERT's `BasicTokenizer._clean_text` (and Hugging Face's `BertTokenizer` /
`BertWordPieceTokenizer(clean_text=True)`) deletes NUL, U+FFFD and every character whose
Unicode category starts with "C" (Cc controls, Cf format characters such as the soft hyphen,
zero-width joiners or U+0600, Co private use, Cs surrogates), except tab, LF and CR, which are
whitespace. `tf_text.FastBertTokenizer` instead treats C0/C1 controls as word breaks and keeps
some format characters. This matters for real web text: RTE's dev set has "Iraq\u00e2\x80\x99s"
(UTF-8 of "'" decoded as Latin-1, a classic mojibake), which BERT reads as `iraq ##as` and
FastBert alone as `iraq ##a s`.

`clean_text` applies BERT's rule inside a TensorFlow graph with one regular expression
(RE2's `\\p{C}` class), so tf.data pipelines and SavedModels get BERT's ids. TFLite has no kernel
for regular expressions (not a builtin, not a tf.text custom op) nor any other builtin that
rewrites strings, so a graph traced for TFLite (inside `tflite_text_ops()`) skips the step; on
that path controls still split words. Callers of a `.tflite` file that need BERT's ids on such
text clean it on the host first with `clean_text_python` (the TFLite predictor does).
"""

import contextlib
import threading
import unicodedata

import tensorflow as tf

# Category C (Cc, Cf, Co, Cs in RE2's tables) minus tab/LF/CR, plus U+FFFD (category So),
# which BERT deletes explicitly. Invalid UTF-8 bytes are not matched (RE2 skips them), so they
# still make their word `[UNK]`, as before.
CONTROL_PATTERN = r"[^\P{C}\t\n\r]|\x{FFFD}"

_state = threading.local()


def _tracing_for_tflite():
    return getattr(_state, "tflite", False)


@contextlib.contextmanager
def tflite_text_ops():
    """Within this block, `clean_text` adds no op (TFLite has no regex kernel).

    Used by `convbert_tf.export.export_tflite` while it traces the tokenizer; thread-local, so
    a SavedModel traced on another thread at the same time keeps the clean-up.

    Example:
    >>> with tflite_text_ops():
    ...     archive = functions.export_archive(names)   # traced without RegexReplace
    """
    previous = _tracing_for_tflite()
    _state.tflite = True
    try:
        yield
    finally:
        _state.tflite = previous


def clean_text(text):
    """Deletes control, format, private-use characters and U+FFFD as BERT does.

    Args:
        text: a string tensor of any shape.

    Returns:
        A string tensor of the same shape; unchanged inside `tflite_text_ops()`.

    Example:
    >>> clean_text(tf.constant(["Iraq\u00e2\x80\x99s", "a\tb"])).numpy()
    array([b'Iraq\xc3\xa2s', b'a\tb'], dtype=object)
    """
    if _tracing_for_tflite():
        return text
    return tf.strings.regex_replace(text, CONTROL_PATTERN, "")


def clean_text_python(text):
    """The same rule in Python, for host-side clean-up before a TFLite interpreter.

    Matches BERT's `_clean_text` deletion rule (category C except tab/LF/CR, plus U+FFFD) with
    this Python's Unicode tables.

    Args:
        text: `str` (or UTF-8 `bytes`, returned as `bytes`).

    Returns:
        The cleaned text, same type as `text`.

    Example:
    >>> clean_text_python("Iraq\u00e2\x80\x99s")
    'Iraqâs'
    """
    if isinstance(text, bytes):
        return clean_text_python(text.decode("utf-8", errors="surrogateescape")).encode(
            "utf-8", errors="surrogateescape")
    return "".join(
        ch for ch in text
        if ch in "\t\n\r" or not (ch == "\ufffd" or unicodedata.category(ch).startswith("C"))
        # Lone surrogates from `surrogateescape` stand for invalid bytes: keep them.
        or 0xDC80 <= ord(ch) <= 0xDCFF
    )
