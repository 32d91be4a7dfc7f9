"""Input checks shared by the tokenizer and the preprocessors.

They run at trace time (Python), so a wrong input fails with a message that
names the argument instead of an opaque TF kernel error inside a batch.
"""

import numpy as np
import tensorflow as tf


def check_string_tensor(value, name):
    """Converts `value` to a string `tf.Tensor` or raises a clear TypeError.

    Accepts `str`, `bytes`, lists/tuples/np arrays of them (including empty
    lists, i.e. a batch of zero texts) and string tensors of rank 0 or 1.
    """
    if isinstance(value, tf.RaggedTensor):
        raise TypeError(f"`{name}` must be a dense string tensor, not a RaggedTensor.")
    if tf.is_tensor(value):
        if value.dtype != tf.string:
            raise TypeError(
                f"`{name}` must be a string or a batch of strings. "
                f"Received a tensor of dtype {value.dtype.name}"
            )
        return value
    if isinstance(value, (str, bytes)):
        return tf.constant(value, dtype=tf.string)
    if isinstance(value, (list, tuple, np.ndarray)):
        items = np.asarray(value, dtype=object).reshape(-1)
        if not all(isinstance(v, (str, bytes, np.str_, np.bytes_)) for v in items):
            bad = next(v for v in items if not isinstance(v, (str, bytes, np.str_, np.bytes_)))
            raise TypeError(
                f"`{name}` must be a string or a batch of strings. "
                f"Received an element of type {type(bad).__name__}: {bad!r}"
            )
        if len(value) == 0:
            return tf.zeros([0], dtype=tf.string)
        return tf.constant(np.asarray(value, dtype=object).astype(bytes)
                           if any(isinstance(v, bytes) for v in items) else list(value),
                           dtype=tf.string)
    raise TypeError(
        f"`{name}` must be a string or a batch of strings. "
        f"Received: {type(value).__name__}"
    )
