import numpy as np
import pytest

from convbert_tf.layers import SpanDynamicConv
from tests.numpy_reference import span_dynamic_conv


def _randomize(layer, seed=0):
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign(rng.normal(scale=0.3, size=w.shape).astype("float32"))


@pytest.mark.parametrize("heads, head_dim, k, seq", [(2, 4, 3, 5), (3, 2, 9, 12), (1, 8, 9, 4)])
def test_matches_unfold_reference(heads, head_dim, k, seq):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, seq, 10)).astype("float32")
    q = rng.normal(size=(2, seq, heads * head_dim)).astype("float32")
    layer = SpanDynamicConv(heads, head_dim, k)
    layer(x, q)
    _randomize(layer)
    out = np.asarray(layer(x, q))
    assert out.shape == (2, seq, heads * head_dim)
    np.testing.assert_allclose(out, span_dynamic_conv(x, q, layer), atol=1e-5)


def test_weight_layout_matches_released_checkpoints():
    layer = SpanDynamicConv(num_heads=2, head_dim=64, kernel_size=9)
    layer(np.zeros((1, 4, 256), "float32"), np.zeros((1, 4, 128), "float32"))
    shapes = {w.path.split("/", 1)[1]: tuple(w.shape) for w in layer.weights}
    assert shapes == {
        "key_conv_attn_layer/depthwise_kernel": (9, 256, 1),
        "key_conv_attn_layer/pointwise_kernel": (1, 256, 128),
        "key_conv_attn_layer/bias": (128,),
        "conv_kernel_layer/kernel": (128, 18),
        "conv_kernel_layer/bias": (18,),
        "conv_out_layer/kernel": (256, 128),
        "conv_out_layer/bias": (128,),
    }


def test_span_is_local():
    """A token only sees (K-1)/2 neighbours on each side through the conv branch."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 15, 8)).astype("float32")
    layer = SpanDynamicConv(num_heads=2, head_dim=2, kernel_size=3)
    # Feed the query independently so only the value path carries position information.
    q = np.ones((1, 15, 4), "float32")
    base = np.asarray(layer(x, q))
    x2 = x.copy()
    x2[0, 7] += 5.0
    changed = np.abs(np.asarray(layer(x2, q)) - base).max(axis=-1)[0] > 1e-6
    # key conv (width 3) then value window (width 3): positions 5..9 may change, no others.
    assert changed[5:10].any() and not changed[:5].any() and not changed[10:].any()


@pytest.mark.parametrize("k", [0, 4, 8])
def test_even_or_nonpositive_kernel_rejected(k):
    with pytest.raises(ValueError, match="kernel_size"):
        SpanDynamicConv(2, 4, k)


def test_config_round_trip():
    layer = SpanDynamicConv(3, 5, 7)
    assert SpanDynamicConv.from_config(layer.get_config()).get_config() == layer.get_config()
