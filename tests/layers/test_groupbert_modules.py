import numpy as np
import pytest

from convbert_tf.layers import GroupBertConvModule, GroupBertLayer, GroupedFeedForward
from tests.numpy_reference import groupbert_conv_module, groupbert_layer, grouped_feed_forward

HIDDEN = 32


def _randomize(layer, seed=0):
    rng = np.random.default_rng(seed)
    for w in layer.weights:
        w.assign(rng.normal(scale=0.2, size=w.shape).astype("float32"))


def _inputs(seq=9):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, seq, HIDDEN)).astype("float32")
    mask = np.ones((2, seq), "float32")
    mask[0, seq - 3 :] = 0
    return x, mask


def test_conv_module_matches_reference():
    module = GroupBertConvModule(HIDDEN, kernel_size=7, group_size=16)
    module.build((None, None, HIDDEN))
    _randomize(module)
    x, mask = _inputs()
    assert tuple(module.conv_kernel.shape) == (7, 2, 16, 16)
    out = np.asarray(module(x, padding_mask=mask))
    np.testing.assert_allclose(out, groupbert_conv_module(x, module, mask), atol=1e-5)


def test_conv_module_never_reads_padding():
    module = GroupBertConvModule(HIDDEN, kernel_size=3, group_size=16)
    x, mask = _inputs()
    out = np.asarray(module(x, padding_mask=mask))
    x2 = x.copy()
    x2[0, -1] += 10.0  # padded position
    np.testing.assert_allclose(np.asarray(module(x2, padding_mask=mask))[0, :-3], out[0, :-3],
                               atol=1e-6)


def test_grouped_feed_forward_matches_reference():
    ffn = GroupedFeedForward(HIDDEN, 4 * HIDDEN, num_groups=4)
    ffn.build((None, None, HIDDEN))
    _randomize(ffn)
    x, _ = _inputs()
    assert tuple(ffn.down_dense.kernel.shape) == (4, 32, 8)
    np.testing.assert_allclose(np.asarray(ffn(x)), grouped_feed_forward(x, ffn), atol=1e-5)


def test_layer_matches_reference():
    layer = GroupBertLayer(HIDDEN, 2, 4 * HIDDEN, dropout=0.0)
    layer.build((None, None, HIDDEN))
    _randomize(layer, seed=3)
    x, mask = _inputs()
    out = np.asarray(layer(x, padding_mask=mask))
    np.testing.assert_allclose(out, groupbert_layer(x, layer, mask), atol=1e-5)


def test_base_module_parameter_counts_match_spec():
    layer = GroupBertLayer(768, 12, 3072)
    layer.build((None, None, 768))

    def count(*layers):
        return sum(int(np.prod(w.shape)) for lyr in layers for w in lyr.weights)

    # Spec: per base layer conv module 1,861,632 with the released model's conv bias (the TF1
    # code's 1,860,864 without), each grouped FFN 3.545M, attention 2.364M (each with its
    # pre-LayerNorm).
    assert count(layer.conv, layer.norms[0]) == 1_861_632
    tf1 = GroupBertLayer(768, 12, 3072, use_conv_bias=False)
    tf1.build((None, None, 768))
    assert count(tf1.conv, tf1.norms[0]) == 1_860_864
    assert count(layer.feed_forward_1, layer.norms[1]) == 3_545_088
    assert count(layer.attention, layer.norms[2]) == 2_363_904


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (GroupBertConvModule, {"hidden_dim": 40}, "group_size"),
        (GroupBertConvModule, {"hidden_dim": 32, "kernel_size": 6}, "kernel_size"),
        (GroupedFeedForward, {"hidden_dim": 30, "intermediate_dim": 120}, "hidden_dim"),
        (GroupedFeedForward, {"hidden_dim": 32, "intermediate_dim": 0}, "intermediate_dim"),
    ],
)
def test_invalid_config(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_config_round_trips():
    for layer in (GroupBertConvModule(32, 5, 8), GroupedFeedForward(32, 64, 2),
                  GroupBertLayer(32, 4, 64, num_groups=2, conv_kernel_size=3)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
