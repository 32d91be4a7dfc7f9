import keras
import numpy as np
import pytest

from convbert_tf.layers import GroupedDense
from tests.numpy_reference import grouped_dense


def test_one_group_equals_dense():
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    layer = GroupedDense(4, num_groups=1, bias_initializer="random_normal")
    out = np.asarray(layer(x))
    dense = keras.layers.Dense(4)
    dense.build(x.shape)
    dense.set_weights([np.asarray(layer.kernel)[0], np.asarray(layer.bias)])
    np.testing.assert_allclose(out, np.asarray(dense(x)), atol=1e-6)


@pytest.mark.parametrize("groups", [2, 3])
def test_groups_are_contiguous_and_independent(groups):
    x = np.random.default_rng(1).normal(size=(2, 4, 6 * groups)).astype("float32")
    layer = GroupedDense(4 * groups, num_groups=groups, bias_initializer="random_normal")
    out = np.asarray(layer(x))
    assert layer.kernel.shape == (groups, 6, 4)
    np.testing.assert_allclose(
        out, grouped_dense(x, np.asarray(layer.kernel), np.asarray(layer.bias)), atol=1e-5
    )
    # Changing group 0's inputs changes group 0's outputs only.
    x2 = x.copy()
    x2[..., :6] += 1.0
    out2 = np.asarray(layer(x2))
    assert not np.allclose(out2[..., :4], out[..., :4])
    np.testing.assert_allclose(out2[..., 4:], out[..., 4:], atol=1e-6)


def test_rank_2_and_activation():
    layer = GroupedDense(4, num_groups=2, activation="relu")
    out = np.asarray(layer(np.random.default_rng(2).normal(size=(7, 8)).astype("float32")))
    assert out.shape == (7, 4) and out.min() >= 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 5, "num_groups": 2}, "units"),
        ({"units": 0}, "units"),
        ({"units": 4, "num_groups": -1}, "num_groups"),
    ],
)
def test_invalid_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GroupedDense(**kwargs)


def test_input_width_not_divisible():
    with pytest.raises(ValueError, match="num_groups"):
        GroupedDense(4, num_groups=2)(np.ones((1, 3), "float32"))


def test_config_round_trip():
    layer = GroupedDense(8, num_groups=4, activation="gelu", use_bias=False)
    clone = GroupedDense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
