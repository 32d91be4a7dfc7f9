import numpy as np
import pytest

from convbert_tf.layers import MixedAttention
from tests.numpy_reference import mixed_attention


def _build(hidden=24, heads=4, ratio=2, k=5, seed=0):
    layer = MixedAttention(hidden, heads, head_ratio=ratio, conv_kernel_size=k)
    layer.build((None, None, hidden))
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign(rng.normal(scale=0.2, size=w.shape).astype("float32"))
    return layer


@pytest.mark.parametrize("ratio", [1, 2, 4])
def test_matches_reference_for_any_head_ratio(ratio):
    layer = _build(ratio=ratio)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 7, 24)).astype("float32")
    mask = np.ones((2, 7), "float32")
    mask[0, 5:] = 0
    out, probs = layer(x, padding_mask=mask, return_attention_scores=True)
    expected, expected_probs = mixed_attention(x, layer, mask)
    n = 4 // ratio
    assert layer.num_mixed_heads == n and out.shape == (2, 7, 2 * n * 6)
    assert probs.shape == (2, n, 7, 7)
    np.testing.assert_allclose(np.asarray(out), expected, atol=2e-5)
    np.testing.assert_allclose(np.asarray(probs), expected_probs, atol=1e-6)


def test_mask_hides_padded_keys_from_attention_heads_only():
    layer = _build()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 6, 24)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0, 0]], "float32")
    out = np.asarray(layer(x, padding_mask=mask))
    x2 = x.copy()
    x2[0, 5] += 3.0  # change a padded token
    out2 = np.asarray(layer(x2, padding_mask=mask))
    attention_part = slice(0, 12)
    conv_part = slice(12, 24)
    # Real positions' attention heads ignore padded keys ...
    np.testing.assert_allclose(out2[0, :4, attention_part], out[0, :4, attention_part],
                               atol=1e-5)
    # ... but the conv branch is unmasked (reference numerics): position 3 sees position 5.
    assert np.abs(out2[0, 3, conv_part] - out[0, 3, conv_part]).max() > 1e-4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hidden_dim": 30, "num_heads": 4}, "hidden_dim"),
        ({"hidden_dim": 24, "num_heads": 4, "head_ratio": 3}, "head_ratio"),
        ({"hidden_dim": 24, "num_heads": 4, "conv_kernel_size": 8}, "conv_kernel_size"),
        ({"hidden_dim": 24, "num_heads": 0}, "num_heads"),
        ({"hidden_dim": 24, "num_heads": 4, "dropout": 1.5}, "dropout"),
    ],
)
def test_invalid_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixedAttention(**kwargs)


def test_config_round_trip():
    layer = MixedAttention(24, 4, head_ratio=4, conv_kernel_size=3, dropout=0.2)
    assert MixedAttention.from_config(layer.get_config()).get_config() == layer.get_config()
