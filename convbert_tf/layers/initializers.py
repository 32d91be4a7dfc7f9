"""Initializer helpers shared by the layers."""

import keras


def truncated_normal(stddev=0.02):
    """BERT's initializer: truncated normal with `stddev` (0.02 everywhere in ConvBERT)."""
    return keras.initializers.TruncatedNormal(stddev=stddev)


def clone_initializer(initializer):
    """Returns a fresh copy of `initializer`.

    Keras initializers built with a fixed seed return the same values on every call, so each
    weight gets its own copy (the same reason keras-hub clones initializers per sublayer).
    """
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())
