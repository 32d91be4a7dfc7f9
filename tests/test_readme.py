"""The README's first-screen usage example really runs, and its two commands are the Makefile's."""

import os
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def _readme():
    with open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_usage_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", _readme(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    # Run where the example's relative paths (saved_models/...) land in a scratch directory.
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": REPO_ROOT})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "saved_models" / "sst2" / "1" / "saved_model.pb").exists()


def test_two_commands_and_ci_agree():
    readme = _readme()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    with open(os.path.join(REPO_ROOT, ".ci", "run"), encoding="utf-8") as f:
        ci = [line for line in f.read().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "make test"
