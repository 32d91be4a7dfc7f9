"""Streaming GLUE metrics equal the corpus-level formulas over several batches."""

import numpy as np
import pytest

from convbert_tf.training import (
    BinaryF1Score,
    MatthewsCorrelation,
    PearsonCorrelation,
    spearman_correlation,
)


def _batches(n=50, batches=5, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    logits = rng.normal(size=(n, 2)).astype("float32")
    logits[:, 1] += labels  # better than chance
    return np.array_split(labels, batches), np.array_split(logits, batches), labels, logits


def test_mcc_and_f1_match_the_confusion_matrix_formulas():
    label_batches, logit_batches, labels, logits = _batches()
    mcc, f1 = MatthewsCorrelation(), BinaryF1Score()
    for y, p in zip(label_batches, logit_batches):
        mcc.update_state(y, p)
        f1.update_state(y, p)
    predicted = logits.argmax(-1)
    tp = np.sum((predicted == 1) & (labels == 1))
    tn = np.sum((predicted == 0) & (labels == 0))
    fp = np.sum((predicted == 1) & (labels == 0))
    fn = np.sum((predicted == 0) & (labels == 1))
    expected_mcc = (tp * tn - fp * fn) / np.sqrt(
        float((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    assert float(mcc.result()) == pytest.approx(expected_mcc, abs=1e-6)
    assert float(f1.result()) == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-6)
    mcc.reset_state()
    mcc.update_state([1, 1], [[0, 1], [0, 1]])  # one class only: defined as 0
    assert float(mcc.result()) == 0.0


def test_pearson_is_corpus_level_and_spearman_handles_ties():
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 5, 40)
    x = y + rng.normal(0, 1, 40)
    metric = PearsonCorrelation()
    for part_y, part_x in zip(np.array_split(y, 3), np.array_split(x, 3)):
        metric.update_state(part_y, part_x[:, None])
    assert float(metric.result()) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-5)

    # Ties share their average rank: ranks of [1, 2, 2, 3] are [1, 2.5, 2.5, 4].
    assert spearman_correlation([1, 2, 2, 3], [10, 20, 20, 30]) == pytest.approx(1.0)
    ranks_a, ranks_b = np.array([1, 2.5, 2.5, 4]), np.array([2, 1, 3, 4])
    expected = np.corrcoef(ranks_a, ranks_b)[0, 1]
    assert spearman_correlation([1, 2, 2, 3], [5, 1, 7, 9]) == pytest.approx(expected)
