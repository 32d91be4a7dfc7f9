"""Activations shared by the layers."""

import keras


def gelu_exact(x):
    """GELU with the exact erf (the released configs' `hidden_act="gelu"`), not the tanh form.

    Keras's `gelu` defaults to `approximate=True`, which differs by up to ~1e-3.
    """
    return keras.activations.gelu(x, approximate=False)
