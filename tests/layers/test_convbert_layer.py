import math

import keras
import numpy as np
import pytest

from convbert_tf.layers import ConvBertLayer, gelu_exact
from tests.numpy_reference import convbert_layer


def _randomize(layer, seed=0):
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign(rng.normal(scale=0.2, size=w.shape).astype("float32"))


@pytest.mark.parametrize("groups", [1, 2])
def test_matches_reference(groups):
    layer = ConvBertLayer(24, 4, 48, conv_kernel_size=5, num_groups=groups, dropout=0.0)
    layer.build((None, None, 24))
    _randomize(layer)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 9, 24)).astype("float32")
    mask = np.ones((2, 9), "float32")
    mask[1, 6:] = 0
    out = np.asarray(layer(x, padding_mask=mask))
    np.testing.assert_allclose(out, convbert_layer(x, layer, mask), atol=5e-5)
    kernel_shape = tuple(layer.intermediate_dense.kernel.shape)
    assert kernel_shape == ((24, 48) if groups == 1 else (2, 12, 24))


def test_layer_norm_epsilon_and_exact_gelu():
    layer = ConvBertLayer(16, 2, 32, conv_kernel_size=3)
    assert layer.attention_layer_norm.epsilon == 1e-12
    assert layer.output_layer_norm.epsilon == 1e-12
    x = np.linspace(-3, 3, 11).astype("float32")
    exact = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    np.testing.assert_allclose(np.asarray(gelu_exact(x)), exact, atol=1e-6)
    assert np.abs(np.asarray(gelu_exact(x)) - np.asarray(keras.activations.gelu(x, approximate=True))).max() > 1e-4


def test_dropout_only_in_training():
    layer = ConvBertLayer(16, 2, 32, conv_kernel_size=3, dropout=0.5)
    x = np.random.default_rng(0).normal(size=(2, 5, 16)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(layer(x)))
    assert not np.allclose(np.asarray(layer(x, training=True)), np.asarray(layer(x)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_groups": 3}, "num_groups"),
        ({"intermediate_dim": 30, "num_groups": 4}, "intermediate_dim"),
        ({"intermediate_dim": -1}, "intermediate_dim"),
    ],
)
def test_invalid_config(kwargs, message):
    config = {"hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32, **kwargs}
    with pytest.raises(ValueError, match=message):
        ConvBertLayer(**config)


def test_config_round_trip():
    layer = ConvBertLayer(16, 2, 32, head_ratio=1, conv_kernel_size=3, num_groups=2)
    assert ConvBertLayer.from_config(layer.get_config()).get_config() == layer.get_config()
