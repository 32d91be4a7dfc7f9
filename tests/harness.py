"""One harness for every public layer, backbone, preprocessor and task (`tests/test_harness.py`
lists them, and fails when a public class is missing from its lists).

Each `check_*` runs the same contract as keras-hub's `TestCase.run_*_test`: config round trip
(`get_config` -> `from_config` -> the same config and, with copied weights, the same outputs),
`keras.saving` serialization, a training step (finite loss, weights move), and for models the
`.keras` file and preset directory round trips with identical outputs and configs.
"""

import keras
import numpy as np


def _numpy(value):
    if hasattr(value, "to_list"):  # a tf.RaggedTensor (tokenizer output)
        return value.to_list()
    if isinstance(value, dict):
        return {key: _numpy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_numpy(item) for item in value)
    return keras.ops.convert_to_numpy(value)


def assert_same(actual, expected, atol=0.0, what=""):
    """Equal nested outputs (dicts, tuples, arrays), exactly unless `atol`."""
    actual, expected = _numpy(actual), _numpy(expected)
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), what
        for key in expected:
            assert_same(actual[key], expected[key], atol, f"{what}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), what
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, atol, f"{what}[{index}]")
    else:
        np.testing.assert_allclose(actual, expected, atol=atol, rtol=0, err_msg=what)


def assert_same_config(actual, expected, what=""):
    """Equal configs, naming the first differing key."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        assert sorted(actual) == sorted(expected), (what, sorted(actual), sorted(expected))
        for key in expected:
            assert_same_config(actual[key], expected[key], f"{what}.{key}")
    else:
        assert actual == expected, (what, actual, expected)


def _without_assets(config):
    """`config` without tokenizer vocabularies: a saved tokenizer reloads its vocabulary from
    the file's assets into its config, where the original may hold None (its default file)."""
    if isinstance(config, dict):
        return {key: _without_assets(value) for key, value in config.items()
                if key != "vocabulary"}
    return config


def _config(obj):
    """`obj`'s full serialized config (nested objects included), for equality checks."""
    return keras.saving.serialize_keras_object(obj)


def _copy_weights(source, target):
    assert [v.path for v in target.weights] == [v.path for v in source.weights]
    for src, dst in zip(source.weights, target.weights):
        dst.assign(src)


def _call(layer, inputs, **kwargs):
    return layer(**inputs, **kwargs) if isinstance(inputs, dict) and not hasattr(
        layer, "backbone") and not isinstance(layer, keras.Model) else layer(inputs, **kwargs)


def _first_float(outputs):
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if isinstance(outputs, (list, tuple)):
        return next(o for o in outputs if "float" in str(keras.backend.standardize_dtype(o.dtype)))
    return outputs


def _trains(weights_before, weights_after):
    return any(not np.array_equal(a, b) for a, b in zip(weights_before, weights_after))


class LayerModel(keras.Model):
    """A layer with dict inputs as a trainable model (its first float output)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.inner = layer

    def call(self, inputs):
        return _first_float(_call(self.inner, inputs, training=True))


def check_layer(make, inputs):
    """`make()` -> a fresh layer; `inputs`: an array or a dict of the call's keyword args."""
    layer = make()
    expected = _call(layer, inputs, training=False)
    # Config round trip, directly and through keras.saving.
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(_config(layer))
    assert type(restored) is type(layer) and restored.get_config() == config
    for other in (clone, restored):
        _call(other, inputs, training=False)  # build
        _copy_weights(layer, other)
        assert_same(_call(other, inputs, training=False), expected, what=type(layer).__name__)
    # One training step moves the weights (when there are any) with a finite loss.
    model = LayerModel(make(), name="layer_model")
    target = np.zeros(_first_float(expected).shape, "float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=False)
    model(inputs)
    before = [np.array(v) for v in model.trainable_weights]
    x = {k: np.asarray(v) for k, v in inputs.items()} if isinstance(inputs, dict) else inputs
    history = model.fit(x, target, batch_size=len(target), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    if before:
        assert _trains(before, [np.array(v) for v in model.trainable_weights]), \
            f"{type(layer).__name__}: no weight moved"


def check_backbone(make, batch, tmp_path):
    """Config, `.keras` and preset round trips; one training step through `sequence_output`."""
    backbone = make()
    expected = backbone(batch)
    config = backbone.get_config()
    clone = type(backbone).from_config(config)
    assert clone.get_config() == config
    _copy_weights(backbone, clone)
    assert_same(clone(batch), expected)
    path = str(tmp_path / "backbone.keras")
    backbone.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(backbone) and loaded.get_config() == config
    assert_same(loaded(batch), expected)
    backbone.save_to_preset(str(tmp_path / "preset"))
    from_preset = type(backbone).from_preset(str(tmp_path / "preset"))
    assert from_preset.get_config() == config
    assert_same(from_preset(batch), expected)
    model = keras.Model(backbone.input, backbone(backbone.input)["sequence_output"])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=False)
    before = [np.array(v) for v in model.trainable_weights]
    target = np.zeros(np.shape(expected["sequence_output"]), "float32")
    history = model.fit(batch, target, batch_size=len(target), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert _trains(before, [np.array(v) for v in model.trainable_weights])


def check_preprocessor(make, inputs, tmp_path, call=None, backbone=None, tf_data=True):
    """Config round trips (`from_config`, `keras.saving`) and a preset round trip with the
    same outputs; with `tf_data` and a list of strings, the same outputs as a `tf.data` map.

    `call(preprocessor, inputs)` runs it (default: `preprocessor(inputs)`); `backbone` goes
    into the preset directory first (keras-hub presets are read through their backbone's
    config)."""
    import tensorflow as tf

    call = call or (lambda pre, x: pre(x))
    preprocessor = make()
    expected = call(preprocessor, inputs)
    config = preprocessor.get_config()
    clone = type(preprocessor).from_config(config)
    assert _config(clone) == _config(preprocessor)
    assert_same(call(clone, inputs), expected)
    restored = keras.saving.deserialize_keras_object(_config(preprocessor))
    assert type(restored) is type(preprocessor)
    assert _config(restored) == _config(preprocessor)
    if backbone is not None:
        backbone.save_to_preset(str(tmp_path / "preset"))
    preprocessor.save_to_preset(str(tmp_path / "preset"))
    from_preset = type(preprocessor).from_preset(str(tmp_path / "preset"))
    assert type(from_preset) is type(preprocessor)
    assert_same(call(from_preset, inputs), expected)
    if tf_data and isinstance(inputs, list) and all(isinstance(i, str) for i in inputs):
        dataset = tf.data.Dataset.from_tensor_slices(inputs).batch(len(inputs))
        mapped = next(iter(dataset.map(preprocessor)))
        assert_same(mapped, expected)


def check_task(task, x, y=None, sample_weight=None, tmp_path=None, atol=1e-6, compare=None):
    """Fit / evaluate / predict on pre-tokenised `x` (the preprocessor detached meanwhile),
    then round trips: `from_config` gives the same full config (backbone and preprocessor
    included); a `.keras` file and a preset directory give it too, and the same predictions
    (only the `compare` keys of dict outputs, when given: sampled outputs differ by design)."""
    preprocessor = task.preprocessor
    task.preprocessor = None
    batch_size = len(next(iter(x.values())))
    # Eager steps: the contract is what is checked here (XLA has the tasks' own tests and
    # tests/tasks/test_backends.py), and tracing each task three times would cost minutes.
    task.compile(jit_compile=False, run_eagerly=True)
    before = [np.array(v) for v in task.trainable_weights]
    history = task.fit(x, y, sample_weight=sample_weight, batch_size=batch_size, epochs=1,
                       verbose=0)
    assert np.isfinite(history.history["loss"][0]), type(task).__name__
    assert _trains(before, [np.array(v) for v in task.trainable_weights]), type(task).__name__
    results = task.evaluate(x, y, sample_weight=sample_weight, batch_size=batch_size, verbose=0,
                            return_dict=True)
    assert all(np.isfinite(value) for value in results.values()), results
    expected = task.predict(x, batch_size=batch_size, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in (
        expected.values() if isinstance(expected, dict) else [expected]))

    def compared(outputs):
        return {key: outputs[key] for key in compare} if compare else outputs

    expected = compared(expected)
    task.preprocessor = preprocessor
    config = task.get_config()  # backbone and preprocessor configs included

    def same_task(other, what):
        assert type(other) is type(task), what
        assert_same_config(_without_assets(other.get_config()), _without_assets(config), what)
        assert other.preprocessor.tokenizer.get_vocabulary() == \
            preprocessor.tokenizer.get_vocabulary(), what
        assert_same(compared(other(x, training=False)), expected, atol, what)

    assert_same_config(type(task).from_config(task.get_config()).get_config(), config,
                       "from_config")
    path = str(tmp_path / "task.keras")
    task.save(path)
    same_task(keras.saving.load_model(path), ".keras")
    task.save_to_preset(str(tmp_path / "preset"))
    same_task(type(task).from_preset(str(tmp_path / "preset")), "preset")
