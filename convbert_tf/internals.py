"""The only module that touches Keras / TensorFlow internals, each behind a version check.

Everything else in `convbert_tf` uses public APIs (`tests/test_public_apis_only.py` fails on
any import of Keras' private source package or framework-private attribute outside this file). What is here has no
public equivalent:

* `MultiWorkerSymbolicBuild`: Keras' TensorFlow trainer builds the metrics before `fit` from
  one batch that it first averages with `strategy.reduce`; `MultiWorkerMirroredStrategy`'s
  collective reduce rejects a dict of per-replica values. The override takes the first
  replica's batch instead (only shapes matter). Keras has no public hook before that build.
* `tf_function_jit_compile`: whether a `tf.function` was created with `jit_compile=True`;
  tf.function keeps that only in a private field.

Both are applied only for the Keras / TensorFlow versions they were written against
(`KERAS_TESTED`, `TENSORFLOW_TESTED`); elsewhere they fall back to Keras' behaviour (with a
warning) and `tests/test_internals.py` fails, so a new release is noticed, not silently
mis-handled.
"""

import inspect
import warnings

import keras

# [low, high) (major, minor) ranges these internals were checked against.
KERAS_TESTED = ((3, 15), (3, 16))
TENSORFLOW_TESTED = ((2, 21), (2, 22))


def _major_minor(version):
    return tuple(int(part) for part in version.split(".")[:2])


def version_in_range(version, tested):
    """Whether `version` ("3.15.1") lies in `tested` ((low, high) of (major, minor))."""
    low, high = tested
    return low <= _major_minor(version) < high


def keras_internals_supported():
    """True when the installed Keras is one whose trainer internals this module knows."""
    return version_in_range(keras.version(), KERAS_TESTED)


def _warn_untested(what):
    warnings.warn(
        f"convbert_tf: {what} relies on Keras {KERAS_TESTED[0]}..{KERAS_TESTED[1]} (exclusive) "
        f"internals and Keras {keras.version()} is installed; falling back to Keras' own "
        "behaviour.", RuntimeWarning, stacklevel=3,
    )


class MultiWorkerSymbolicBuild:
    """Mixin (before the Keras model class): MultiWorkerMirroredStrategy-safe metric build."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if keras.config.backend() != "tensorflow":
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        import tensorflow as tf

        strategy = self.distribute_strategy
        if iterator is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        if not keras_internals_supported():
            _warn_untested("the MultiWorkerMirroredStrategy metric build")
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            data_batch = tf.nest.map_structure(
                lambda value: strategy.experimental_local_results(value)[0], next(batches)
            )
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)


def keras_trainer_internals():
    """The private Keras trainer methods `MultiWorkerSymbolicBuild` relies on, with their
    parameter names (the test compares them with what this module was written against)."""
    # `keras.Model` is the TensorFlow trainer on this backend: no import from Keras' private source package.
    return {
        name: list(inspect.signature(getattr(keras.Model, name)).parameters)
        for name in ("_maybe_symbolic_build", "_symbolic_build")
    }


def tf_function_jit_compile(function):
    """`jit_compile` of a `tf.function` (None: not set), or None on untested TensorFlow."""
    import tensorflow as tf

    if not version_in_range(tf.__version__, TENSORFLOW_TESTED):
        return None
    return getattr(function, "_jit_compile", None)
