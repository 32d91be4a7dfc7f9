"""`ConvBertQuestionAnswererPreprocessor`: SQuAD-style (question, context) windows and answers.

Contexts longer than the sequence are cut into overlapping windows (`doc_stride`), each packed
as `[CLS] question [SEP] context window [SEP]` (segment 1 = the window). Every context token
keeps its character offsets into the ORIGINAL context (tf.text `FastBertTokenizer` offsets,
mapped from UTF-8 bytes to characters), so a predicted token span is turned back into the exact
context substring, accents, CJK and full-width forms included.

Answers (training): `{"text": str, "answer_start": int}` (character index, SQuAD layout) or
None / empty text for a question with no answer (SQuAD v2). The answer's target in a window is
its first/last token when it lies wholly inside the window, and `[CLS]` (position 0, the null
answer) otherwise or when there is no answer. An answer that is NOT in its context (the text
at `answer_start` differs, or the span runs past the end) raises a `ValueError` naming the
example: that is a data error, and training on it would teach the model a wrong span.

This layer runs eagerly (NumPy windowing, like the reference SQuAD feature builder): one
example can become several windows, so the number of rows changes.
"""

import keras
import keras_hub
import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.convbert_tokenizer import ConvBertTokenizer
from convbert_tf.preprocessing.segment_packing import check_sequence_length


def _byte_to_char(text):
    """`table[b]` = index of the character holding UTF-8 byte `b` (plus one end entry)."""
    table = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8")))
    table.append(len(text))
    return np.asarray(table, "int64")


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertQuestionAnswererPreprocessor(HfPresetMixin, keras_hub.models.Preprocessor):
    """Tokenizes (question, context) pairs into SQuAD windows with character offsets.

    `features(questions, contexts, answers=None)` returns a dict of NumPy arrays with one row
    per window: the model inputs `token_ids`, `segment_ids`, `padding_mask` (`[N, L]`),
    `example_index` (`[N]`, which input the window came from), `offsets` (`[N, L, 2]`
    character start/end in the context, -1 outside the context) and, with answers,
    `start_positions` / `end_positions` (`[N]`, 0 = `[CLS]` = no answer in this window).
    Calling the layer with `((questions, contexts), answers)` returns `(x, y)` ready for
    `ConvBertQuestionAnswerer.fit`. `decode(...)` turns logits back into answer strings.

    Args:
        tokenizer: a `ConvBertTokenizer` (its vocabulary and casing are used); None: default.
        sequence_length: window length `L` (384 as in SQuAD fine-tuning).
        doc_stride: step between window starts, in context tokens (128).
        max_question_length: questions are cut to this many word pieces (64).

    Example:
    >>> pre = ConvBertQuestionAnswererPreprocessor(sequence_length=64, doc_stride=16)
    >>> x, y = pre((["Where is Zürich?"], ["Zürich is in Switzerland."]),
    ...            [{"text": "Switzerland", "answer_start": 13}])
    >>> x["token_ids"].shape, y["start_logits"]
    """

    # keras-hub's `from_preset` checks a preset's backbone class against this.
    backbone_cls = ConvBertBackbone
    tokenizer_cls = ConvBertTokenizer

    def __init__(self, tokenizer=None, sequence_length=384, doc_stride=128,
                 max_question_length=64, **kwargs):
        super().__init__(**kwargs)
        tokenizer = ConvBertTokenizer() if tokenizer is None else tokenizer
        check_sequence_length(sequence_length, minimum=8)
        if not 0 < max_question_length <= sequence_length - 4:
            raise ValueError("`max_question_length` must be in [1, sequence_length - 4], got "
                             f"{max_question_length!r}.")
        if not isinstance(doc_stride, int) or doc_stride < 1:
            raise ValueError(f"`doc_stride` must be a positive int, got {doc_stride!r}.")
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.doc_stride = doc_stride
        self.max_question_length = max_question_length
        # The tokenizer's own graph collapses over-long words, which loses offsets; the same
        # FastBert with offsets gives identical ids for every word under 100 characters.
        self._fast_bert = tf_text.FastBertTokenizer(
            vocab=tokenizer.vocabulary, token_out_type=tf.int32,
            unknown_token=tokenizer.unk_token, max_bytes_per_word=4 * tokenizer.max_word_length,
            lower_case_nfd_strip_accents=tokenizer.lowercase,
        )

    def _tokenize(self, texts):
        ids, starts, ends = self._fast_bert.tokenize_with_offsets(tf.constant(texts))
        return ids.to_list(), starts.to_list(), ends.to_list()

    @staticmethod
    def _answer_span(index, context, answer):
        """Character `[start, end)` of the answer, or None for no answer."""
        if answer is None:
            return None
        text = answer.get("text") or ""
        if not text:
            return None
        start = answer.get("answer_start")
        if start is None or not 0 <= start <= len(context) - len(text) \
                or context[start:start + len(text)] != text:
            raise ValueError(
                f"Example {index}: the answer {text!r} (answer_start={start}) is not in its "
                f"context: context[{start}:{None if start is None else start + len(text)}] = "
                f"{context[start:start + len(text)] if isinstance(start, int) else None!r}. "
                "Fix `answer_start`, or pass None for a question without an answer."
            )
        return start, start + len(text)

    def features(self, questions, contexts, answers=None):
        """Builds the windows; see the class docstring for the returned arrays."""
        questions, contexts = list(questions), list(contexts)
        if len(questions) != len(contexts):
            raise ValueError(f"{len(questions)} questions for {len(contexts)} contexts.")
        if answers is not None and len(answers) != len(contexts):
            raise ValueError(f"{len(answers)} answers for {len(contexts)} contexts.")
        tok = self.tokenizer
        q_ids, _, _ = self._tokenize(questions)
        c_ids, c_starts, c_ends = self._tokenize(contexts)
        rows = []
        for i, context in enumerate(contexts):
            span = None if answers is None else self._answer_span(i, context, answers[i])
            to_char = _byte_to_char(context)
            starts = to_char[np.asarray(c_starts[i], "int64")] if c_ids[i] else []
            ends = to_char[np.asarray(c_ends[i], "int64")] if c_ids[i] else []
            question = q_ids[i][: self.max_question_length]
            room = self.sequence_length - len(question) - 3
            answer_tokens = None
            if span is not None:
                inside = [t for t in range(len(c_ids[i]))
                          if ends[t] > span[0] and starts[t] < span[1]]
                answer_tokens = (inside[0], inside[-1]) if inside else None
            window_start = 0
            while True:
                window_end = min(window_start + room, len(c_ids[i]))
                ids = [tok.cls_token_id, *question, tok.sep_token_id,
                       *c_ids[i][window_start:window_end], tok.sep_token_id]
                offset = len(question) + 2 - window_start  # context token t -> row position
                row = {"example_index": i, "token_ids": ids,
                       "segment_ids": [0] * (len(question) + 2) + [1] * (len(ids) - len(question) - 2),
                       "offsets": np.full((self.sequence_length, 2), -1, "int64")}
                for t in range(window_start, window_end):
                    row["offsets"][t + offset] = (starts[t], ends[t])
                start_pos = end_pos = 0
                if answer_tokens and window_start <= answer_tokens[0] \
                        and answer_tokens[1] < window_end:
                    start_pos, end_pos = answer_tokens[0] + offset, answer_tokens[1] + offset
                row["start_positions"], row["end_positions"] = start_pos, end_pos
                rows.append(row)
                if window_end >= len(c_ids[i]):
                    break
                window_start += min(self.doc_stride, room)
        return self._stack(rows, with_labels=answers is not None)

    def _stack(self, rows, with_labels):
        L = self.sequence_length
        n = len(rows)
        out = {"token_ids": np.full((n, L), self.tokenizer.pad_token_id, "int32"),
               "segment_ids": np.zeros((n, L), "int32"), "padding_mask": np.zeros((n, L), "int32"),
               "example_index": np.asarray([r["example_index"] for r in rows], "int32"),
               "offsets": np.stack([r["offsets"] for r in rows]) if rows else
               np.zeros((0, L, 2), "int64")}
        for j, r in enumerate(rows):
            k = len(r["token_ids"])
            out["token_ids"][j, :k] = r["token_ids"]
            out["segment_ids"][j, :k] = r["segment_ids"]
            out["padding_mask"][j, :k] = 1
        if with_labels:
            out["start_positions"] = np.asarray([r["start_positions"] for r in rows], "int32")
            out["end_positions"] = np.asarray([r["end_positions"] for r in rows], "int32")
        return out

    def call(self, x, y=None, sample_weight=None):
        questions, contexts = x
        questions = [_to_str(q) for q in _as_list(questions)]
        contexts = [_to_str(c) for c in _as_list(contexts)]
        features = self.features(questions, contexts, y)
        inputs = {k: features[k] for k in ("token_ids", "segment_ids", "padding_mask")}
        labels = None
        if y is not None:
            labels = {"start_logits": features["start_positions"],
                      "end_logits": features["end_positions"]}
        return keras.utils.pack_x_y_sample_weight(inputs, labels, sample_weight)

    def decode(self, start_logits, end_logits, features, contexts, max_answer_length=30,
               allow_no_answer=False):
        """Best answer string per example (the exact context substring).

        For each example, over all its windows: the span `i <= j < i + max_answer_length` of
        context tokens maximising `start[i] + end[j]`. With `allow_no_answer` (SQuAD v2), ""
        is returned when the `[CLS]` score `start[0] + end[0]` of some window beats every span.

        Args:
            start_logits, end_logits: `[N, L]` model outputs for `features`' windows.
            features: the dict returned by `features(...)`.
            contexts: the contexts, in the order given to `features`.
            max_answer_length: longest span, in tokens.
            allow_no_answer: whether "" (no answer) may be predicted.
        """
        start_logits = np.asarray(start_logits, "float64")
        end_logits = np.asarray(end_logits, "float64")
        best = [(-np.inf, "") for _ in contexts]
        null = [-np.inf for _ in contexts]
        for row, i in enumerate(features["example_index"]):
            offsets = features["offsets"][row]
            in_context = np.nonzero(offsets[:, 0] >= 0)[0]
            null[i] = max(null[i], start_logits[row, 0] + end_logits[row, 0])
            for s in in_context:
                ends = in_context[(in_context >= s) & (in_context < s + max_answer_length)]
                if not len(ends):
                    continue
                e = ends[np.argmax(end_logits[row, ends])]
                score = start_logits[row, s] + end_logits[row, e]
                if score > best[i][0]:
                    best[i] = (score, contexts[i][offsets[s, 0]:offsets[e, 1]])
        return ["" if allow_no_answer and null[i] > best[i][0] else best[i][1]
                for i in range(len(contexts))]

    def get_config(self):
        # keras-hub's Preprocessor (de)serialises the tokenizer.
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length, "doc_stride": self.doc_stride,
                       "max_question_length": self.max_question_length})
        return config


def _as_list(value):
    if isinstance(value, (str, bytes)):
        return [value]
    if tf.is_tensor(value):
        value = value.numpy()
    return list(np.asarray(value, dtype=object).reshape(-1))


def _to_str(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def load_squad(split="train", version="v1.1"):
    """SQuAD through `tensorflow_datasets` (`squad/v1.1` / `squad/v2.0`).

    Raises:
        RuntimeError: tfds or the dataset is not available (no download here), with the
            error that caused it.
    """
    try:
        import tensorflow_datasets as tfds

        return tfds.load(f"squad/{version}", split=split, download=False)
    except Exception as error:  # noqa: BLE001 - any failure means the same to the user
        raise RuntimeError(
            f"SQuAD {version} is not available through tensorflow_datasets here "
            f"({type(error).__name__}: {error}). Download and prepare it with "
            f"`tfds build squad/{version}` on a machine with network, or pass your own "
            "(question, context, answer) lists to ConvBertQuestionAnswererPreprocessor."
        ) from error
