"""Runs every task on the current Keras backend, from configs and weights the TF side wrote.

`python -m tests.tasks.backend_parity DIR` (with `KERAS_BACKEND` set) reads `DIR/specs.json`,
and for each task: rebuilds it with `keras.saving.deserialize_keras_object`, loads the
variables in `DIR/<name>.weights.npz`, records the forward pass (`predict`) on fixed,
pre-tokenised inputs (`DIR/<name>.npz`), fits three steps on them (the tasks' default
`compile()`: XLA / jit and the recipe optimizer; the losses are recorded), then fits,
evaluates and predicts once on raw strings through the task's own preprocessor. The raw round
uses the array round's batch size, so its batches have the same shapes and `fit` and
`predict` reuse the compiled steps (one compile per task for each of fit, evaluate and
predict). Results go to `DIR/<backend>.npz`, seconds per phase to stdout (`timings ` + JSON).
The pytest side (`test_backends.py`) runs the array part in-process on TensorFlow (eagerly:
its numbers are the same, and the TF tasks' XLA and raw-string paths have their own tests)
and compares.
"""

import json
import os
import sys
import time

import numpy as np


def _inputs(data, prefix):
    return {key[len(prefix):]: data[key] for key in data.files if key.startswith(prefix)}


def _raw_examples(spec, preprocessor):
    """`(x, y)` for the raw-text round: strings for the text tasks, the preprocessor's output
    for the two whose preprocessing is not a per-batch `tf.data` map (QA windows, words)."""
    raw = spec["raw"]
    if spec["name"] == "question_answerer":
        x, y = preprocessor((raw["questions"], raw["contexts"]), raw["answers"])
        return {"x": x, "y": y}
    if spec["name"] == "token_classifier":
        x, y, weight = preprocessor(raw["words"], raw["labels"])
        return {"x": x, "y": y, "sample_weight": weight}
    return {"x": raw["x"], "y": raw.get("y")}


def run_task(spec, directory, raw_round=True, jit_compile=True, timings=None):
    """The task's results; `jit_compile=False` runs the steps eagerly (the reference side).
    Seconds per phase are added to `timings` (a dict) when given."""
    import keras

    # `import convbert_tf` is lazy: import the modules whose classes the configs name.
    import convbert_tf.preprocessing  # noqa: F401
    import convbert_tf.tasks  # noqa: F401

    clock = [time.perf_counter()]

    def lap(phase):
        now = time.perf_counter()
        if timings is not None:
            timings[f"{spec['name']}/{phase}"] = round(now - clock[0], 2)
        clock[0] = now

    task = keras.saving.deserialize_keras_object(spec["config"])
    assert [v.path for v in task.weights] == spec["paths"], spec["name"]
    weights = np.load(os.path.join(directory, f"{spec['name']}.weights.npz"))
    for index, variable in enumerate(task.weights):
        variable.assign(weights[f"arr_{index}"])
    data = np.load(os.path.join(directory, f"{spec['name']}.npz"))
    x = _inputs(data, "x/")
    y = _inputs(data, "y/") or None
    y = y[""] if y is not None and list(y) == [""] else y
    sample_weight = data["sample_weight"] if "sample_weight" in data.files else None
    batch_size = len(next(iter(x.values())))
    lap("build")
    results = {}
    preprocessor = task.preprocessor
    task.preprocessor = None  # the arrays are already model inputs
    task.compile(jit_compile=jit_compile, run_eagerly=not jit_compile)
    # The forward pass through `predict`: compiled (jit) on the backend under test, and the
    # raw round's `predict` (same shapes) reuses that compilation.
    outputs = task.predict(x, batch_size=batch_size, verbose=0)
    for key, value in (outputs.items() if isinstance(outputs, dict) else [("", outputs)]):
        if key in spec.get("compare", [key]):
            results[f"forward/{key}"] = np.asarray(value)
    lap("forward")
    history = task.fit(x, y, sample_weight=sample_weight, batch_size=batch_size, epochs=3,
                       shuffle=False, verbose=0)
    for key in spec.get("losses", ["loss"]):
        results[f"losses/{key}"] = np.asarray(history.history[key])
    task.preprocessor = preprocessor
    lap("fit")
    if not raw_round:
        return results
    examples = _raw_examples(spec, preprocessor)
    if spec["name"] in ("question_answerer", "token_classifier"):
        task.preprocessor = None
    raw_history = task.fit(**examples, batch_size=batch_size, epochs=1, verbose=0)
    results["raw/loss"] = np.asarray(raw_history.history["loss"])
    lap("raw_fit")
    task.evaluate(**examples, batch_size=batch_size, verbose=0)
    lap("raw_evaluate")
    prediction = task.predict(examples["x"], batch_size=batch_size, verbose=0)
    first = prediction if not isinstance(prediction, dict) else next(iter(prediction.values()))
    results["raw/prediction_finite"] = np.asarray(np.all(np.isfinite(first)))
    results["raw/jit_compile"] = np.asarray(bool(task.jit_compile))
    lap("raw_predict")
    return results


def run_all(directory, raw_round=True, jit_compile=True, timings=None):
    with open(os.path.join(directory, "specs.json")) as f:
        specs = json.load(f)
    results = {}
    for spec in specs:
        for key, value in run_task(spec, directory, raw_round, jit_compile, timings).items():
            results[f"{spec['name']}/{key}"] = value
    return results


if __name__ == "__main__":
    import keras

    out_dir = sys.argv[1]
    phase_seconds = {}
    all_results = run_all(out_dir, timings=phase_seconds)
    np.savez(os.path.join(out_dir, f"{keras.config.backend()}.npz"), **all_results)
    print("timings " + json.dumps(phase_seconds))
