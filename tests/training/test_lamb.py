"""LAMB with `exclude_from_layer_adaptation`: biases and LayerNorm betas get the Adam step."""

import keras
import numpy as np
import pytest

from convbert_tf.optimizers import Lamb

LR = 1e-2


def variables(seed=0):
    rng = np.random.default_rng(seed)
    kernel = keras.Variable(rng.normal(0, 0.02, (6, 4)).astype("float32"), name="kernel")
    bias = keras.Variable(np.zeros(4, "float32"), name="bias")
    beta = keras.Variable(np.zeros(4, "float32"), name="beta")
    return [kernel, bias, beta]


def gradients(step, seed=1):
    rng = np.random.default_rng(seed + step)
    return [rng.normal(0, 1, shape).astype("float32") for shape in ((6, 4), (4,), (4,))]


def run(optimizer, steps, seed=0):
    var_list = variables(seed)
    for step in range(steps):
        optimizer.apply_gradients(zip(gradients(step), var_list))
    return [v.numpy() for v in var_list]


def test_without_exclusions_it_is_keras_lamb():
    # Same moments, bias correction, trust ratio and decoupled decay as `keras.optimizers.Lamb`.
    ours = run(Lamb(LR, weight_decay=0.01, exclude_from_layer_adaptation=()), steps=5)
    theirs = run(keras.optimizers.Lamb(LR, weight_decay=0.01, epsilon=1e-6), steps=5)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)  # fp32 rounding: ~1e-7 seen


def test_zero_initialised_bias_and_beta_train_with_adam_steps():
    steps = 10
    # A constant gradient: each Adam step is `lr` per entry, so 10 steps move a bias by 10 lr.
    var_list = variables()
    optimizer = Lamb(LR)
    for _ in range(steps):
        optimizer.apply_gradients(zip([-np.ones(v.shape, "float32") for v in var_list], var_list))
    _, bias, beta = (v.numpy() for v in var_list)
    np.testing.assert_allclose(bias, steps * LR, rtol=1e-4)
    np.testing.assert_allclose(beta, steps * LR, rtol=1e-4)
    # The kernel keeps the trust ratio: one step moves it by lr of its own norm.
    kernel = variables()[0]
    start = kernel.numpy().copy()
    Lamb(LR).apply_gradients([(np.ones(kernel.shape, "float32"), kernel)])
    np.testing.assert_allclose(np.linalg.norm(kernel.numpy() - start),
                               LR * np.linalg.norm(start), rtol=1e-4)

    # Why: `keras.optimizers.Lamb` gives a zero variable the ratio 1 once, then a step of `lr`
    # times its own norm, so the bias stays near its first step (lr + 9 lr**2).
    var_list = variables()
    optimizer = keras.optimizers.Lamb(LR, epsilon=1e-6)
    for _ in range(steps):
        optimizer.apply_gradients(zip([-np.ones(v.shape, "float32") for v in var_list], var_list))
    assert np.all(var_list[1].numpy() < 1.2 * LR)


def test_name_patterns_select_the_exempt_variables():
    optimizer = Lamb(LR, exclude_from_layer_adaptation=["bias"])
    kernel, bias, beta = variables()
    assert optimizer.adapts(kernel) and optimizer.adapts(beta) and not optimizer.adapts(bias)
    with pytest.raises(TypeError, match="`exclude_from_layer_adaptation` must be a list"):
        Lamb(exclude_from_layer_adaptation="bias")
    built = Lamb(LR)
    built.build([kernel])
    with pytest.raises(ValueError, match="built for other variables than 'bias'"):
        built.update_step(np.ones(4, "float32"), bias, LR)


def test_config_round_trip_and_fit_under_xla():
    optimizer = Lamb(2e-3, beta_2=0.98, weight_decay=0.01, exclude_from_layer_adaptation=["b"])
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(clone) is Lamb
    assert clone.get_config() == optimizer.get_config()
    assert clone.exclude_from_layer_adaptation == ["b"]

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    model.compile(optimizer=Lamb(1e-2), loss="mse", jit_compile=True)
    before = [w.numpy().copy() for w in model.weights]
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, np.ones((8, 2), "float32"), epochs=2, verbose=0)
    for old, new in zip(before, model.weights):
        assert not np.allclose(old, new.numpy())  # the zero bias moves too


def test_under_a_mirrored_strategy_it_matches_one_device():
    # Under `tf.distribute`, `update_step` receives each replica's variable, not the Keras one:
    # the slots must be found through them (`update_step_views`).
    import tensorflow as tf

    def train(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
            model.compile(optimizer=Lamb(1e-2, weight_decay=0.01), loss="mse")
        x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
        model.fit(x, np.ones((8, 2), "float32"), batch_size=4, epochs=2, verbose=0)
        return [w.numpy() for w in model.weights]

    single = train(tf.distribute.get_strategy())
    mirrored = train(tf.distribute.MirroredStrategy(["/cpu:0"]))
    for a, b in zip(mirrored, single):
        np.testing.assert_allclose(a, b, rtol=1e-6)  # same ops, one replica: exact in practice
    assert not np.allclose(single[1], 0.0)  # the zero bias trained
