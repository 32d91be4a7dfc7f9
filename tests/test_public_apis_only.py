"""`convbert_tf` uses Keras, keras-hub and TensorFlow through their public APIs only.

Fails on, anywhere in `convbert_tf/` except `convbert_tf/internals.py` (the one isolated module,
see `tests/test_internals.py`):

* imports of `keras.src`, `keras_hub.src`, `tensorflow.python`, `tensorflow.lite.python`, and
  `tf.__internal__`;
* any use of a framework-private name: `obj._name`, `getattr(obj, "_name")`, a keyword
  argument `_name=` (keras-hub's `_allow_python_workflow`), or a method `def _name` that would
  override one. "Framework-private" = a `_single_underscore` name found on live Keras,
  keras-hub and TensorFlow objects (models after `fit`, optimizers, variables, tokenizers,
  preprocessors, `tf.function`s), so our own private helpers do not count unless they shadow
  one of those.
"""

import ast
import pathlib

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "convbert_tf"
ISOLATED = {"internals.py"}
# Files of other work streams that still use an internal; each entry names its owner and
# reason. The test fails when an entry no longer has a violation, so the list only shrinks.
PENDING = {}
PRIVATE_MODULES = ("keras.src", "keras_hub.src", "tensorflow.python", "tensorflow.lite.python",
                   "tf_keras")


def _is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _framework_private_names():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="mse", metrics=["mae"],
                  jit_compile=False)
    model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)
    model.evaluate(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary)
    objects = [
        model, model.optimizer, model.weights[0], model.layers[0], model.metrics[0],
        keras.optimizers.schedules.PolynomialDecay(1.0, 10),
        tokenizer,
        keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=8),
        keras_hub.models.BertMaskedLMPreprocessor(tokenizer, sequence_length=8),
        keras_hub.layers.MaskedLMMaskGenerator(7, 0.5, 2, 4),
        keras_hub.layers.MultiSegmentPacker(8, 2, 3, 0),
        tf.function(lambda x: x, jit_compile=True),
        tf.Variable(1.0), tf.constant(1.0), tf.ragged.constant([[1]]),
        tf.distribute.get_strategy(),
    ]
    classes = [keras.Model, keras.layers.Layer, keras_hub.models.Task,
               keras_hub.models.TextClassifier, keras_hub.models.MaskedLM,
               keras_hub.models.Backbone, keras_hub.models.Preprocessor,
               keras_hub.tokenizers.Tokenizer, keras_hub.layers.MaskedLMHead,
               tf.distribute.MirroredStrategy, tf.data.Dataset]
    names = set()
    for obj in [*objects, *classes]:
        names.update(n for n in dir(obj) if _is_private(n))
    return names


def _plain_class_self_nodes(tree):
    """Nodes of `self.<name>` and methods inside classes with no base class: those names are
    the class's own, whatever a framework calls its internals."""
    own = set()
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and not cls.bases:
            for node in ast.walk(cls):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id == "self":
                    own.add(id(node))
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    own.add(id(node))
    return own


def _violations(tree, private_names):
    found = []
    own = _plain_class_self_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in own:
            continue
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = []
        for module in modules:
            if module.startswith(PRIVATE_MODULES):
                found.append((node.lineno, f"import {module}"))
        if isinstance(node, ast.Attribute) and (node.attr in private_names
                                                or node.attr == "__internal__"):
            found.append((node.lineno, f".{node.attr}"))
        if isinstance(node, ast.keyword) and node.arg and _is_private(node.arg):
            found.append((node.value.lineno, f"keyword {node.arg}="))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value in private_names:
            found.append((node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if id(item) in own:
                    continue
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                        and item.name in private_names:
                    found.append((item.lineno, f"def {item.name} (overrides a private hook)"))
    return found


@pytest.fixture(scope="module")
def private_names():
    names = _framework_private_names()
    # Sanity: the names this test exists for are in the set.
    assert {"_compile_config", "_loss_tracker", "_var_key", "_apply_weight_decay",
            "_add_special_token", "_jit_compile", "_maybe_symbolic_build"} <= names
    return names


def test_no_framework_internals_outside_the_isolated_module(private_names):
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ISOLATED or relative in PENDING:
            continue
        for line, what in _violations(ast.parse(path.read_text(encoding="utf-8")),
                                      private_names):
            problems.append(f"convbert_tf/{relative}:{line}: {what}")
    assert not problems, "framework internals used outside convbert_tf/internals.py:\n" + \
        "\n".join(problems)


@pytest.mark.parametrize("relative", sorted(PENDING))
def test_pending_exceptions_are_still_needed(relative, private_names):
    path = PACKAGE / relative
    if not path.exists():
        pytest.fail(f"{relative} is gone: drop it from PENDING.")
    text = path.read_text(encoding="utf-8")
    found = _violations(ast.parse(text), private_names)
    assert found, f"{relative} no longer uses internals: drop it from PENDING."


def test_the_checker_catches_each_kind(private_names):
    source = (
        "import keras.src.trainers\n"
        "from tensorflow.python.eager import context\n"
        "class T(keras.Model):\n"
        "    def _maybe_symbolic_build(self):\n"
        "        self._compile_config.config['x'] = 1\n"
        "        f(_allow_python_workflow=False)\n"
        "        getattr(g, '_jit_compile', False)\n"
        "        self._own_helper = 1\n"
        "class Plain:\n"
        "    def _call(self):\n"
        "        return self._call\n"
    )
    kinds = [what for _, what in _violations(ast.parse(source), private_names)]
    assert len(kinds) == 6, kinds
