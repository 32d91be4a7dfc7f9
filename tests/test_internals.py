"""`convbert_tf.internals` is the one place that touches Keras / TensorFlow internals: these
tests fail as soon as an installed Keras or TensorFlow is not the one those were written
against, so a new release is looked at instead of silently taking the fallback."""

import keras
import tensorflow as tf

from convbert_tf import internals


def test_installed_versions_are_the_tested_ones():
    assert internals.version_in_range(keras.version(), internals.KERAS_TESTED), (
        f"Keras {keras.version()} is outside {internals.KERAS_TESTED}: re-check "
        "convbert_tf/internals.py against its trainer, then widen KERAS_TESTED.")
    assert internals.version_in_range(tf.__version__, internals.TENSORFLOW_TESTED), (
        f"TensorFlow {tf.__version__} is outside {internals.TENSORFLOW_TESTED}: re-check "
        "tf_function_jit_compile, then widen TENSORFLOW_TESTED.")
    assert internals.keras_internals_supported()


def test_keras_trainer_hooks_have_the_expected_signatures():
    assert internals.keras_trainer_internals() == {
        "_maybe_symbolic_build": ["self", "iterator", "data_batch"],
        "_symbolic_build": ["self", "iterator", "data_batch"],
    }


def test_tf_function_jit_compile_is_read():
    assert internals.tf_function_jit_compile(tf.function(lambda x: x, jit_compile=True)) is True
    assert internals.tf_function_jit_compile(tf.function(lambda x: x)) is None


def test_version_ranges():
    assert internals.version_in_range("3.15.1", ((3, 15), (3, 16)))
    assert not internals.version_in_range("3.16.0", ((3, 15), (3, 16)))
    assert not internals.version_in_range("2.9.0", ((3, 15), (3, 16)))
