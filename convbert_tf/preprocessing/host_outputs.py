"""keras-hub's output contract for preprocessing layers that compute with TensorFlow.

keras-hub's tokenizers and preprocessors hand back, when called eagerly:

* inside a Grain pipeline: NumPy arrays (ragged or string results: Python lists), which
  Grain can batch and pickle across worker processes;
* on the TensorFlow backend: TF tensors (they are the backend's tensors);
* on JAX / PyTorch: that backend's tensors for dense results, lists for ragged ones.

Inside `tf.data` / `tf.function` (graph mode) everything stays a TF tensor. Ours compute with
tf.text and TF ops everywhere (one graph for training, SavedModel and TFLite) and convert at
the end with `host_outputs`.
"""

import inspect
import os
import sys

import keras
import numpy as np
import tensorflow as tf

# Grain's dataset and data-loader sources: a frame from there on the stack means this call
# runs inside a Grain transformation.
_GRAIN_SOURCES = (
    os.path.join("grain", "_src", "python", "dataset"),
    os.path.join("grain", "_src", "python", "data_loader"),
)


def in_grain_pipeline():
    """Whether the caller runs inside a Grain pipeline's transformation."""
    if "grain" not in sys.modules:
        return False
    frame = inspect.currentframe()
    while frame is not None:
        if any(source in frame.f_code.co_filename for source in _GRAIN_SOURCES):
            return True
        frame = frame.f_back
    return False


def _to_list(value):
    value = value.to_list() if isinstance(value, tf.RaggedTensor) else value.numpy().tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return keras.tree.map_structure(
        lambda v: v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v, value)


def _to_numpy(value):
    if isinstance(value, tf.RaggedTensor) or (tf.is_tensor(value) and value.dtype == tf.string):
        return _to_list(value)
    if tf.is_tensor(value):
        return value.numpy()
    return value


def _to_backend(value):
    if isinstance(value, tf.RaggedTensor) or (tf.is_tensor(value) and value.dtype == tf.string):
        return _to_list(value)
    if tf.is_tensor(value):
        return keras.ops.convert_to_tensor(value.numpy())
    return value


def host_outputs(outputs):
    """Converts a preprocessing layer's TF results to keras-hub's contract (module docstring).

    Args:
        outputs: a nest (dict / tuple / list) of `tf.Tensor` / `tf.RaggedTensor` / None.

    Returns:
        The same nest, converted when called eagerly; unchanged in graph mode.

    Example:
    >>> host_outputs({"token_ids": tf.constant([[101, 102]])})  # NumPy inside Grain
    """
    if not tf.executing_eagerly():
        return outputs
    if in_grain_pipeline():
        convert = _to_numpy
    elif keras.config.backend() == "tensorflow":
        return outputs
    else:
        convert = _to_backend
    return _map(outputs, convert)


def _map(value, convert):
    if isinstance(value, dict):
        return {key: _map(item, convert) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_map(item, convert) for item in value)
    if value is None or isinstance(value, (np.ndarray, str, bytes, int, float)):
        return value
    return convert(value)
