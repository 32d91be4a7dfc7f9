"""Initializer helpers shared by the layers."""

import keras


def truncated_normal(stddev=0.02):
    """BERT's initializer: truncated normal with `stddev` (0.02 everywhere in ConvBERT)."""
    return keras.initializers.TruncatedNormal(stddev=stddev)


def backbone_initializer(backbone):
    """A head's initializer at `backbone.initializer_range` (ELECTRA's and BERT's heads use
    the model's range); 0.02 for a backbone without one (or with None)."""
    return truncated_normal(getattr(backbone, "initializer_range", None) or 0.02)


def clone_initializer(initializer):
    """Returns a fresh copy of `initializer`.

    Keras initializers built with a fixed seed return the same values on every call, so each
    weight gets its own copy (the same reason keras-hub clones initializers per sublayer).
    """
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())
