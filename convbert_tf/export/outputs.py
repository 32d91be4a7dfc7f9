"""Stable output names of exported tasks: `logits` + `probabilities`, or `predictions`."""

import keras_hub
import tensorflow as tf

CLASSIFIER_OUTPUTS = ("logits", "probabilities")
REGRESSOR_OUTPUTS = ("predictions",)


def task_kind(task):
    """`"classifier"` or `"regressor"`; raises for tasks export does not know.

    A classifier must output logits (`activation=None`, the `ConvBertTextClassifier` default):
    `probabilities` is computed from them. Regressors (`ConvBertTextRegressor` or any keras-hub
    Task with one linear output) export their raw `[batch, 1]` output as `predictions`.
    """
    # Imported here: tasks sit above export's helpers in the import graph, not below them.
    from convbert_tf.tasks import ConvBertTextRegressor

    if isinstance(task, keras_hub.models.TextClassifier):
        activation = getattr(task, "activation", None)
        if activation not in (None, "linear") and getattr(activation, "__name__", "") != "linear":
            raise ValueError(
                "Export expects a classifier that outputs logits (activation=None); this one "
                f"has activation={activation!r}. Rebuild the task with activation=None."
            )
        return "classifier"
    if isinstance(task, ConvBertTextRegressor):
        return "regressor"
    raise TypeError(
        "Export supports ConvBertTextClassifier / ConvBertTextRegressor (or keras-hub "
        f"TextClassifier) tasks. Received: {type(task).__name__}"
    )


def output_names(task):
    """The ordered output names of `task`'s exported signatures."""
    return CLASSIFIER_OUTPUTS if task_kind(task) == "classifier" else REGRESSOR_OUTPUTS


def named_outputs(kind, raw):
    """Maps the task's raw output tensor to the exported dict (float32 under mixed precision)."""
    raw = tf.cast(raw, tf.float32)
    if kind == "classifier":
        return {"logits": raw, "probabilities": tf.nn.softmax(raw, axis=-1)}
    return {"predictions": raw}
