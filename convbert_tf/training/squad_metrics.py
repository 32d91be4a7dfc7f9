"""SQuAD v1.1 exact match and F1, with the official evaluation script's normalisation."""

import collections
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace (official)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction, ground_truth):
    """1.0 if the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(ground_truth))


def f1_score(prediction, ground_truth):
    """Token-overlap F1 of the normalised strings (0 when either is empty and they differ)."""
    pred_tokens = normalize_answer(prediction).split()
    truth_tokens = normalize_answer(ground_truth).split()
    if not pred_tokens or not truth_tokens:
        # SQuAD v2 convention for null answers; v1.1 never has empty ground truths.
        return float(pred_tokens == truth_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(truth_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(truth_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_evaluate(predictions, references):
    """Corpus EM and F1 in percent, each question scored against its best ground truth.

    Args:
        predictions: list of predicted answer strings, or `{question_id: answer}`.
        references: list of lists of ground-truth strings (same order), or
            `{question_id: [answers]}`.

    Returns:
        `{"exact_match": float, "f1": float}` in [0, 100].

    Example:
    >>> squad_evaluate(["the Eiffel tower"], [["Eiffel Tower", "tower"]])
    {'exact_match': 100.0, 'f1': 100.0}
    """
    if isinstance(predictions, dict):
        missing = set(references) - set(predictions)
        if missing:
            raise ValueError(f"No prediction for {len(missing)} question(s), e.g. "
                             f"{sorted(missing)[:3]}.")
        keys = list(references)
        predictions = [predictions[k] for k in keys]
        references = [references[k] for k in keys]
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references.")
    if not references:
        raise ValueError("Nothing to evaluate: no references.")
    em = f1 = 0.0
    for prediction, truths in zip(predictions, references):
        truths = [truths] if isinstance(truths, str) else list(truths)
        if not truths:
            raise ValueError("Every question needs at least one ground-truth answer.")
        em += max(exact_match_score(prediction, t) for t in truths)
        f1 += max(f1_score(prediction, t) for t in truths)
    return {"exact_match": 100.0 * em / len(references), "f1": 100.0 * f1 / len(references)}
