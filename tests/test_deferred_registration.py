"""A `.keras` file loads after a bare `import convbert_tf`, in either order with `import keras`."""

import importlib
import os
import pkgutil
import subprocess
import sys

import keras
import pytest

import convbert_tf
from convbert_tf.deferred_registration import PACKAGE, SERIALIZABLE
from tests.conftest import REPO_ROOT


def test_every_serializable_class_has_a_stand_in():
    for module in pkgutil.walk_packages(convbert_tf.__path__, "convbert_tf."):
        if not any(part in module.name for part in (".cli", ".checkpoints", "__main__")):
            importlib.import_module(module.name)
    registered = {key.split(">", 1)[1]: obj.__module__
                  for key, obj in keras.saving.get_custom_objects().items()
                  if key.startswith(f"{PACKAGE}>")}
    # Registered real classes replaced their stand-ins and live where the table says.
    assert registered == SERIALIZABLE


@pytest.mark.subprocess
def test_saved_task_loads_after_a_bare_import_in_a_fresh_process(tmp_path):
    from convbert_tf import (
        ConvBertBackbone,
        ConvBertTextClassifier,
        ConvBertTextClassifierPreprocessor,
    )

    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                                intermediate_dim=32, max_sequence_length=16)
    task = ConvBertTextClassifier(backbone, 2, preprocessor=ConvBertTextClassifierPreprocessor(
        sequence_length=16))
    path = str(tmp_path / "task.keras")
    task.save(path)
    expected = task.predict(["a fine film"], verbose=0)[0]
    for imports in ("import convbert_tf, keras", "import keras, convbert_tf"):
        code = (f"{imports}\nimport sys\nassert 'convbert_tf.tasks' not in sys.modules\n"
                f"task = keras.saving.load_model({path!r})\n"
                "print(type(task).__name__, *task.predict(['a fine film'], verbose=0)[0])")
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=300, env={**os.environ, "PYTHONPATH": REPO_ROOT})
        assert run.returncode == 0, (imports, run.stderr[-2000:])
        name, *logits = run.stdout.split()
        assert name == "ConvBertTextClassifier"
        # The same weights in another process: equal up to float32 rounding.
        assert [round(float(v), 4) for v in logits] == [round(float(v), 4) for v in expected]
