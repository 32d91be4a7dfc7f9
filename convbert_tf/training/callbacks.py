"""Callbacks of the fine-tuning runner."""

import keras
import numpy as np


def spearman_correlation(x, y):
    """Spearman's rho of two 1-D arrays: Pearson of their ranks, ties get their average rank."""
    x = np.asarray(x, "float64").reshape(-1)
    y = np.asarray(y, "float64").reshape(-1)
    if x.size != y.size or x.size < 2:
        raise ValueError(f"Need two equally long arrays of >= 2 values, got {x.size}, {y.size}.")
    rank_x, rank_y = _average_ranks(x), _average_ranks(y)
    rank_x -= rank_x.mean()
    rank_y -= rank_y.mean()
    denominator = np.sqrt((rank_x**2).sum() * (rank_y**2).sum())
    return float((rank_x * rank_y).sum() / denominator) if denominator > 0 else 0.0


def _average_ranks(values):
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size, "float64")
    ranks[order] = np.arange(values.size, dtype="float64")
    # Ties: every member of a run of equal values gets the run's mean rank.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


class SpearmanCorrelation(keras.callbacks.Callback):
    """Adds `val_spearman` to the epoch logs (STS-B's second metric).

    Spearman needs all predictions at once, so it cannot be a streaming Keras metric. This runs
    `model.predict` on the validation inputs at the end of each epoch and writes the result into
    the logs dict; put it *before* `TensorBoard` / `ModelCheckpoint` in the callback list so they
    see it (the progress bar always comes last).

    Args:
        x: validation inputs (raw strings / pairs when the model has a preprocessor).
        y: validation targets.
        batch_size: prediction batch size.
        name: the logs key.

    Example:
    >>> model.fit(train, validation_data=(x_val, y_val),
    ...           callbacks=[SpearmanCorrelation(x_val, y_val)])
    """

    def __init__(self, x, y, batch_size=64, name="val_spearman"):
        super().__init__()
        self.x = x
        self.y = np.asarray(y)
        self.batch_size = batch_size
        self.name = name

    def on_epoch_end(self, epoch, logs=None):
        predictions = self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        value = spearman_correlation(predictions, self.y)
        if logs is not None:
            logs[self.name] = value

