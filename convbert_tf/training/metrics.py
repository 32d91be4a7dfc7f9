"""Streaming GLUE metrics as Keras metrics (progress bar, TensorBoard, XLA, tf.distribute).

Keras has `F1Score` (one-hot labels and probabilities), and its `PearsonCorrelation` averages
per-batch coefficients, which is not the corpus-level Pearson GLUE reports. These keep sufficient
statistics in `sum`-aggregated variables instead, so the result over an epoch is exact, they
compile under XLA and their replicas add up under `tf.distribute`. Spearman needs every
prediction at once: see `convbert_tf.training.callbacks.SpearmanCorrelation`.
"""

import keras
from keras import ops


def _binary_predictions(y_pred):
    """Class-1 decisions from logits `[B, 2]` (argmax) or a single logit `[B]`/`[B, 1]` (> 0)."""
    y_pred = ops.convert_to_tensor(y_pred)
    if len(y_pred.shape) >= 2 and y_pred.shape[-1] not in (None, 1):
        return ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), 1), "float32")
    return ops.cast(ops.reshape(y_pred, (-1,)) > 0, "float32")


class _BinaryConfusion(keras.metrics.Metric):
    """Accumulates tp / fp / fn / tn of binary decisions against sparse 0/1 labels."""

    def __init__(self, name, dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.counts = {
            key: self.add_variable(shape=(), initializer="zeros", name=key, aggregation="sum")
            for key in ("tp", "fp", "fn", "tn")
        }

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = _binary_predictions(y_pred)
        actual = ops.cast(ops.equal(ops.reshape(ops.cast(y_true, "int32"), (-1,)), 1), "float32")
        weight = ops.ones_like(actual)
        if sample_weight is not None:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        cells = {
            "tp": predicted * actual,
            "fp": predicted * (1.0 - actual),
            "fn": (1.0 - predicted) * actual,
            "tn": (1.0 - predicted) * (1.0 - actual),
        }
        for key, cell in cells.items():
            self.counts[key].assign_add(ops.cast(ops.sum(cell * weight), self.dtype))

    def reset_state(self):
        for variable in self.counts.values():
            variable.assign(ops.zeros((), self.dtype))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


@keras.saving.register_keras_serializable(package="convbert_tf")
class MatthewsCorrelation(_BinaryConfusion):
    """Matthews correlation coefficient of a binary classifier (CoLA's metric), streaming.

    `(tp*tn - fp*fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn))`, 0 when a marginal is empty (as
    scikit-learn). Predictions are logits `[B, 2]` or one logit per example.

    Example:
    >>> metric = MatthewsCorrelation()
    >>> metric.update_state([1, 0, 1, 0], [[0, 1], [1, 0], [1, 0], [1, 0]])
    >>> round(float(metric.result()), 4)
    0.5774
    """

    def __init__(self, name="matthews_correlation", dtype="float32"):
        super().__init__(name=name, dtype=dtype)

    def result(self):
        tp, fp, fn, tn = (self.counts[k] for k in ("tp", "fp", "fn", "tn"))
        denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        return ops.where(
            denominator > 0, (tp * tn - fp * fn) / ops.sqrt(ops.maximum(denominator, 1e-30)), 0.0
        )


@keras.saving.register_keras_serializable(package="convbert_tf")
class BinaryF1Score(_BinaryConfusion):
    """F1 of the positive class (MRPC / QQP), streaming, from logits and sparse labels.

    Example:
    >>> metric = BinaryF1Score()
    >>> metric.update_state([1, 0, 1], [[0, 1], [0, 1], [1, 0]])
    >>> float(metric.result())
    0.5
    """

    def __init__(self, name="f1", dtype="float32"):
        super().__init__(name=name, dtype=dtype)

    def result(self):
        tp, fp, fn = (self.counts[k] for k in ("tp", "fp", "fn"))
        denominator = 2.0 * tp + fp + fn
        return ops.where(denominator > 0, 2.0 * tp / ops.maximum(denominator, 1e-30), 0.0)


@keras.saving.register_keras_serializable(package="convbert_tf")
class PearsonCorrelation(keras.metrics.Metric):
    """Corpus-level Pearson correlation (STS-B), streaming through running sums.

    Example:
    >>> metric = PearsonCorrelation()
    >>> metric.update_state([1.0, 2.0], [[1.0], [2.5]])
    >>> metric.update_state([3.0], [[2.9]])
    >>> round(float(metric.result()), 4)
    0.9798
    """

    def __init__(self, name="pearson", dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.sums = {
            key: self.add_variable(shape=(), initializer="zeros", name=key, aggregation="sum")
            for key in ("n", "x", "y", "xx", "yy", "xy")
        }

    def update_state(self, y_true, y_pred, sample_weight=None):
        x = ops.reshape(ops.cast(y_pred, self.dtype), (-1,))
        y = ops.reshape(ops.cast(y_true, self.dtype), (-1,))
        w = ops.ones_like(x)
        if sample_weight is not None:
            w = ops.reshape(ops.cast(sample_weight, self.dtype), (-1,))
        terms = {"n": w, "x": w * x, "y": w * y, "xx": w * x * x, "yy": w * y * y,
                 "xy": w * x * y}
        for key, term in terms.items():
            self.sums[key].assign_add(ops.sum(term))

    def result(self):
        s = self.sums
        n = ops.maximum(s["n"], 1.0)
        covariance = s["xy"] - s["x"] * s["y"] / n
        variance_x = s["xx"] - s["x"] * s["x"] / n
        variance_y = s["yy"] - s["y"] * s["y"] / n
        denominator = variance_x * variance_y
        return ops.where(
            denominator > 0, covariance / ops.sqrt(ops.maximum(denominator, 1e-30)), 0.0
        )

    def reset_state(self):
        for variable in self.sums.values():
            variable.assign(ops.zeros((), self.dtype))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
