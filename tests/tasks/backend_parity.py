"""Runs every task on the current Keras backend, from configs and weights the TF side wrote.

`python -m tests.tasks.backend_parity DIR` (with `KERAS_BACKEND` set) reads `DIR/specs.json`,
and for each task: rebuilds it with `keras.saving.deserialize_keras_object`, loads
the variables in `DIR/<name>.weights.npz`, records the forward pass on fixed, pre-tokenised inputs
(`DIR/<name>.npz`), fits three steps on them (the tasks' default `compile()`: XLA / jit and the
recipe optimizer; the losses are recorded), then fits, evaluates and predicts once on raw
strings through the task's own preprocessor. Results go to `DIR/<backend>.npz`. The pytest
side (`test_backends.py`) runs the array part in-process on TensorFlow (without XLA: its
numbers are the same, and the TF tasks' XLA and raw-string paths have their own tests) and
compares.
"""

import json
import os
import sys

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


def run_task(spec, directory, raw_round=True, jit_compile=True):
    import keras

    # `import convbert_tf` is lazy: import the modules whose classes the configs name.
    import convbert_tf.preprocessing  # noqa: F401
    import convbert_tf.tasks  # noqa: F401

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
    results = {}
    outputs = task({k: keras.ops.convert_to_tensor(v) for k, v in x.items()}, training=False)
    for key, value in (outputs.items() if isinstance(outputs, dict) else [("", outputs)]):
        if key in spec.get("compare", [key]):
            results[f"forward/{key}"] = keras.ops.convert_to_numpy(value)
    preprocessor = task.preprocessor
    task.preprocessor = None  # the arrays are already model inputs
    task.compile(jit_compile=jit_compile)
    history = task.fit(x, y, sample_weight=sample_weight, batch_size=len(next(iter(x.values()))),
                       epochs=3, shuffle=False, verbose=0)
    for key in spec.get("losses", ["loss"]):
        results[f"losses/{key}"] = np.asarray(history.history[key])
    task.preprocessor = preprocessor
    if not raw_round:
        return results
    examples = _raw_examples(spec, preprocessor)
    if spec["name"] in ("question_answerer", "token_classifier"):
        task.preprocessor = None
    raw_history = task.fit(**examples, batch_size=2, epochs=1, verbose=0)
    results["raw/loss"] = np.asarray(raw_history.history["loss"])
    task.evaluate(**examples, batch_size=2, verbose=0)
    prediction = task.predict(examples["x"], batch_size=2, verbose=0)
    first = prediction if not isinstance(prediction, dict) else next(iter(prediction.values()))
    results["raw/prediction_finite"] = np.asarray(np.all(np.isfinite(first)))
    results["raw/jit_compile"] = np.asarray(bool(task.jit_compile))
    return results


def run_all(directory, raw_round=True, jit_compile=True):
    with open(os.path.join(directory, "specs.json")) as f:
        specs = json.load(f)
    results = {}
    for spec in specs:
        for key, value in run_task(spec, directory, raw_round, jit_compile).items():
            results[f"{spec['name']}/{key}"] = value
    return results


if __name__ == "__main__":
    import keras

    out_dir = sys.argv[1]
    all_results = run_all(out_dir)
    np.savez(os.path.join(out_dir, f"{keras.config.backend()}.npz"), **all_results)
