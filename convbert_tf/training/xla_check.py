"""Finding the XLA-compiled functions behind `model.fit` (to check XLA is really on)."""

import tensorflow as tf

from convbert_tf.internals import tf_function_jit_compile


def _closure_values(function):
    for cell in getattr(function, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue


def xla_compiled_train_functions(model):
    """The `tf.function(jit_compile=True)`s that `model.fit` has traced, outermost first.

    `model.jit_compile` is only a request: Keras drops it on CPU-only machines for "auto", and
    under a strategy XLA may be applied per replica (`model.xla_mode == "per_replica"`). This
    walks the train function Keras built (its closures) and returns every traced tf.function
    compiled with XLA, plus the task's per-replica function if it has been traced. Pass one to
    `experimental_get_compiler_ir(batch)(stage="hlo")` to see the HLO XLA compiles.

    Example:
    >>> classifier.fit(x, y, epochs=1)
    >>> [f.__name__ for f in xla_compiled_train_functions(classifier)]
    ['one_step_on_data']
    """
    found, seen = [], set()
    stack = [model.train_function] if model.train_function is not None else []
    while stack:
        value = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, tf.types.experimental.PolymorphicFunction):
            if tf_function_jit_compile(value) and value.experimental_get_tracing_count():
                found.append(value)
            stack.append(value.python_function)
        elif callable(value) and not isinstance(value, type):
            stack.extend(_closure_values(value))
    per_replica = getattr(model, "xla_gradients_function", None)
    if per_replica is not None and per_replica.experimental_get_tracing_count():
        found.append(per_replica)
    return found
