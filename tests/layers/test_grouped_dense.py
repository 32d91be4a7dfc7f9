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


def _grouped_model(seed=0):
    inputs = keras.Input((5, 8))
    outputs = GroupedDense(6, num_groups=2, bias_initializer="random_normal")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3)(outputs))
    x = np.random.default_rng(seed).normal(size=(2, 5, 8)).astype("float32")
    return model, x


def test_model_quantize_int8_covers_grouped_dense(tmp_path):
    model, x = _grouped_model()
    expected = np.asarray(model(x))
    model.quantize("int8")
    layer = model.layers[1]
    assert layer.quantization_mode == "int8" and model.layers[2].quantization_mode == "int8"
    assert layer.quantized_kernel.dtype == "int8"
    assert not hasattr(layer, "kernel")
    assert {v.name for v in layer.weights} == {"kernel", "kernel_scale", "bias"}
    got = np.asarray(model(x))
    # int8 in both layers (Dense also quantizes its inputs): measured max |diff| 1.5e-2 on
    # outputs up to 3.5 (seed 1234); bound 5e-2 (a wrong scale axis gives errors of order 1).
    np.testing.assert_allclose(got, expected, atol=5e-2)
    path = str(tmp_path / "quantized.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert restored.layers[1].quantization_mode == "int8"
    np.testing.assert_array_equal(np.asarray(restored(x)), got)


def test_quantize_other_modes_are_refused():
    layer = GroupedDense(4, num_groups=2)
    layer.build((None, 4))
    with pytest.raises(NotImplementedError, match="int8"):
        layer.quantize("float8")
