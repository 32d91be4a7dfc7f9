"""Every task on JAX (and PyTorch where installed) gives TensorFlow's numbers.

The TensorFlow side (this process) builds each task with a tiny backbone (dropout 0, so
training is deterministic), saves its config and weights and a batch of pre-tokenised inputs;
`tests/tasks/backend_parity.py` then runs, once in-process on TensorFlow and once per other
backend in a subprocess (`KERAS_BACKEND=jax`): forward pass, three `fit` steps under the task's
default `compile()` (XLA / jit, the recipe optimizer), and one fit / evaluate / predict round on
raw strings through the task's preprocessor (that last round only on the other backend).

Six tasks: classifier, regressor, masked LM, ELECTRA pretrainer, QA and token tagging. The
regressor runs on a GroupBERT backbone (with its `pooled` head), the others on ConvBERT, so
both backbones are covered without a seventh task. Seconds per phase print with `pytest -s`.
The JAX worker starts before the TF reference runs, so the two overlap. Measured here (2
shared cores, `--durations`): 19 s setup + 70 s for the JAX test, 90 s in all (was 84 s +
145 s = 229 s with seven two-layer tasks, run one after the other, and a raw round that
recompiled the train step).
"""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from convbert_tf.preprocessing import (
    ConvBertMaskedLMPreprocessor,
    ConvBertQuestionAnswererPreprocessor,
    ConvBertTextClassifierPreprocessor,
    ConvBertTokenClassifierPreprocessor,
)
from convbert_tf.tasks import (
    ConvBertElectraPretrainer,
    ConvBertMaskedLM,
    ConvBertQuestionAnswerer,
    ConvBertTextClassifier,
    ConvBertTextRegressor,
    ConvBertTokenClassifier,
)
from tests.conftest import REPO_ROOT
from tests.tasks import backend_parity

SEQUENCE_LENGTH = 16
TEXTS = ["a great film", "dull and slow , sadly", "the quick brown fox jumps", "it rains"]
LABELS = np.array([1, 0, 1, 0], "int32")
SCORES = np.array([4.5, 0.5, 3.0, 1.0], "float32")
QUESTIONS = ["Where does Müller live?", "Who knows?"]
CONTEXTS = ["Café Müller lives in Zürich since 1990 and likes trains.", "Nobody knows it."]
ANSWERS = [{"text": "Zürich", "answer_start": 21}, None]
WORDS = [["John", "lives", "in", "Zürich"], ["Kids", "play"]]
WORD_LABELS = [[1, 0, 0, 2], [0, 0]]

# Forward passes (TF eager vs JAX jit `predict`): max |difference| measured 2.1e-9 (GroupBERT
# regressor) to 6.0e-8 (pretrainer logits) on this CPU; the bound is 1e-5.
FORWARD_ATOL = 1e-5
# Losses of three fit steps (default compile: the recipe's LayerwiseAdamW, lr 1e-4). Step 1 is
# the initial weights' loss: measured relative difference <= 3.1e-7, bound 1e-5. Steps 2-3
# follow one / two Adam updates, whose normalised step m / (sqrt(v) + eps) turns gradient
# differences near eps (1e-6) into full-size moves: measured relative differences up to 4.2e-4
# with the former two-layer backbones, up to 3.1e-4 (pretrainer MLM loss) with today's
# one-layer ones over two runs; bound 2e-3.
FIRST_LOSS_RTOL = 1e-5
LATER_LOSS_RTOL = 2e-3


def tiny_convbert():
    return ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                            intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                            dropout=0.0, max_sequence_length=SEQUENCE_LENGTH)


def tiny_groupbert():
    return GroupBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                             intermediate_dim=32, num_groups=2, conv_kernel_size=3,
                             conv_group_size=8, dropout=0.0,
                             max_sequence_length=SEQUENCE_LENGTH)


def _classifier_pre():
    return ConvBertTextClassifierPreprocessor(sequence_length=SEQUENCE_LENGTH)


def _mlm_pre():
    return ConvBertMaskedLMPreprocessor(sequence_length=SEQUENCE_LENGTH, mask_selection_rate=0.3,
                                        mask_selection_length=4)


def _numpy(value):
    if isinstance(value, dict):
        return {k: np.asarray(v) for k, v in value.items()}
    return np.asarray(value)


def build_specs():
    """`(task, spec, (x, y, sample_weight))` for every task."""
    specs = []
    pre = _classifier_pre()
    x = _numpy(pre(TEXTS))
    specs.append((ConvBertTextClassifier(tiny_convbert(), num_classes=3, preprocessor=pre,
                                         dropout=0.0),
                  {"name": "text_classifier", "raw": {"x": TEXTS, "y": LABELS.tolist()}},
                  (x, LABELS, None)))
    # The regressor runs on GroupBERT (and its `pooled` head), so both backbones are covered.
    specs.append((ConvBertTextRegressor(tiny_groupbert(), preprocessor=_classifier_pre(),
                                        dropout=0.0),
                  {"name": "groupbert_regressor", "raw": {"x": TEXTS, "y": SCORES.tolist()}},
                  (x, SCORES, None)))
    pre = _mlm_pre()
    masked = tuple(_numpy(part) for part in pre(TEXTS))
    specs.append((ConvBertMaskedLM(tiny_convbert(), preprocessor=pre),
                  {"name": "masked_lm", "raw": {"x": TEXTS}}, masked))
    specs.append((ConvBertElectraPretrainer(tiny_convbert(), preprocessor=_mlm_pre(), seed=3),
                  # Replacements are sampled (backend RNGs differ): the generator's logits and
                  # first-step MLM loss are deterministic, the rest is checked to be finite.
                  {"name": "electra_pretrainer", "raw": {"x": TEXTS}, "compare": ["mlm_logits"],
                   "losses": ["loss", "mlm_loss"]}, masked))
    pre = ConvBertQuestionAnswererPreprocessor(sequence_length=SEQUENCE_LENGTH, doc_stride=4,
                                               max_question_length=4)
    qa_x, qa_y = pre((QUESTIONS, CONTEXTS), ANSWERS)
    specs.append((ConvBertQuestionAnswerer(tiny_convbert(), preprocessor=pre),
                  {"name": "question_answerer",
                   "raw": {"questions": QUESTIONS, "contexts": CONTEXTS, "answers": ANSWERS}},
                  (_numpy(qa_x), _numpy(qa_y), None)))
    pre = ConvBertTokenClassifierPreprocessor(sequence_length=SEQUENCE_LENGTH)
    tag_x, tag_y, tag_w = pre(WORDS, WORD_LABELS)
    specs.append((ConvBertTokenClassifier(tiny_convbert(), num_labels=3, preprocessor=pre,
                                          dropout=0.0),
                  {"name": "token_classifier", "raw": {"words": WORDS, "labels": WORD_LABELS}},
                  (_numpy(tag_x), _numpy(tag_y), _numpy(tag_w))))
    return specs


def write_specs(directory):
    specs = []
    for task, spec, (x, y, sample_weight) in build_specs():
        spec["config"] = keras.saving.serialize_keras_object(task)
        # Variables in order, with their paths (the worker checks they line up): the ELECTRA
        # pretrainer is a subclassed Task, and keras-hub's `Task.layers` (which
        # `save_weights` walks) assumes a functional model.
        spec["paths"] = [v.path for v in task.weights]
        np.savez(os.path.join(directory, f"{spec['name']}.weights.npz"),
                 *[keras.ops.convert_to_numpy(v) for v in task.weights])
        arrays = {f"x/{k}": v for k, v in x.items()}
        if isinstance(y, dict):
            arrays.update({f"y/{k}": v for k, v in y.items()})
        elif y is not None:
            arrays["y/"] = y
        if sample_weight is not None:
            arrays["sample_weight"] = sample_weight
        np.savez(os.path.join(directory, f"{spec['name']}.npz"), **arrays)
        specs.append(spec)
    with open(os.path.join(directory, "specs.json"), "w") as f:
        json.dump(specs, f)
    return specs


OTHER_BACKENDS = ("jax", "torch")


def start_backend(backend, directory):
    """Starts the worker for `backend` (output in `DIR/<backend>.log`); see `finish_backend`."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""}
    log = open(os.path.join(directory, f"{backend}.log"), "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.tasks.backend_parity", directory],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    return process, log


def finish_backend(worker, backend, directory, timeout=600):
    """Waits for the worker of `start_backend`; its results."""
    process, log = worker
    try:
        returncode = process.wait(timeout=timeout)
    finally:
        log.close()
    with open(os.path.join(directory, f"{backend}.log")) as f:
        output = f.read()
    assert returncode == 0, output[-4000:]
    for line in output.splitlines():
        if line.startswith("timings "):
            print(f"{backend} seconds per phase: {line[len('timings '):]}")
    return dict(np.load(os.path.join(directory, f"{backend}.npz")))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Writes the specs, starts the other backends' workers (they need only the specs), and
    meanwhile runs the TensorFlow reference in this process: the XLA compiles of the workers
    leave the second core to it."""
    directory = str(tmp_path_factory.mktemp("backends"))
    specs = write_specs(directory)
    workers = {backend: start_backend(backend, directory) for backend in OTHER_BACKENDS
               if importlib.util.find_spec(backend) is not None}
    try:
        timings = {}
        results = backend_parity.run_all(directory, raw_round=False, jit_compile=False,
                                         timings=timings)
        print(f"tensorflow seconds per phase: {json.dumps(timings)}")
        yield directory, specs, results, workers
    finally:
        for process, log in workers.values():
            if process.poll() is None:  # a test was deselected or failed early
                process.kill()
                process.wait()
            log.close()


def _compare(specs, expected, actual, backend):
    report = {}
    for spec in specs:
        name = spec["name"]
        for key in expected:
            if not key.startswith(f"{name}/"):
                continue
            assert key in actual, f"{backend} did not produce {key}"
            if "/forward/" in key:
                diff = float(np.max(np.abs(expected[key] - actual[key])))
                report[key] = diff
                assert diff <= FORWARD_ATOL, f"{backend} {key}: max |diff| {diff:.2e}"
            elif key == "electra_pretrainer/losses/loss":
                # The replaced-token part depends on sampled tokens: finite is all we ask.
                assert np.all(np.isfinite(actual[key])), f"{backend} {key}"
            elif "/losses/" in key:
                np.testing.assert_allclose(actual[key][:1], expected[key][:1],
                                           rtol=FIRST_LOSS_RTOL, err_msg=f"{backend} {key}")
                if name != "electra_pretrainer":  # later steps depend on sampled tokens
                    np.testing.assert_allclose(actual[key][1:], expected[key][1:],
                                               rtol=LATER_LOSS_RTOL, err_msg=f"{backend} {key}")
                report[key] = float(np.max(np.abs(actual[key] / expected[key] - 1)))
    for spec in specs:
        name = spec["name"]
        assert bool(actual[f"{name}/raw/prediction_finite"]), f"{backend} {name} predict"
        assert bool(actual[f"{name}/raw/jit_compile"]), f"{backend} {name} jit"
        assert np.all(np.isfinite(actual[f"{name}/raw/loss"])), f"{backend} {name} raw fit"
    return report


def test_tensorflow_reference_runs_every_task(reference):
    _, specs, results, _ = reference
    for spec in specs:
        assert np.all(np.isfinite(results[f"{spec['name']}/losses/loss"])), spec["name"]


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_backend_matches_tensorflow(reference, backend):
    pytest.importorskip(backend)
    directory, specs, expected, workers = reference
    report = _compare(specs, expected, finish_backend(workers[backend], backend, directory),
                      backend)
    print(json.dumps(report, indent=1))
