"""`bench/pretraining_efficiency_profile.py --quick` end to end (smoke; it measures nothing)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.subprocess
def test_quick_run_writes_step_costs(tmp_path):
    output = tmp_path / "pretraining_efficiency_profile.json"
    run = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bench", "pretraining_efficiency_profile.py"),
         "--quick", "--output", str(output)],
        env={**os.environ, "PYTHONPATH": REPO_ROOT}, capture_output=True, text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report["pretraining_seconds_per_step"]["convbert"] > 0
    row = report["models"]["convbert"]["2x8"]
    assert row["ms"] > 0 and row["tokens_per_s"] > 0
    # 3 x forward FLOPs of 16 tokens of a 2-layer, 128-wide ConvBERT: tens of MFLOP.
    assert 0.001 < row["train_gflop"] < 1.0
    assert set(report["fixed_cost_ms"]) == {"convbert_1x16_vocabulary_30522",
                                            "convbert_1x16_vocabulary_8000"}
    assert report["machine"]["cores"] >= 1
    assert not list(tmp_path.glob("*.tmp"))
