"""Activations shared by the layers."""

import keras


def gelu_exact(x):
    """GELU with the exact erf (the released configs' `hidden_act="gelu"`), not the tanh form.

    Spelled out (rather than the string "gelu") so that the choice survives any change of
    default: the tanh approximation (BERT's original TF1 code) differs by up to ~1e-3.
    """
    return keras.activations.gelu(x, approximate=False)
