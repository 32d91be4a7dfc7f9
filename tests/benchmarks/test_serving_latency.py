"""`bench/serving_latency.py --quick`: one tiny model, one export, JSON + PNG written."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.subprocess
def test_quick_latency_run_writes_json_and_png(tmp_path):
    out = tmp_path / "serving_latency.json"
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bench", "serving_latency.py"), "--quick",
         "--sections", "latency", "--models", "conv_bert_small", "--variants", "sm_fp32_xla",
         "--output", str(out)],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    row = report["latency"]["conv_bert_small"]["variants"]["sm_fp32_xla"]["1x32"]
    assert row["runs"] >= 2 and row["p50_ms"] > 0 and row["p99_ms"] >= row["p50_ms"]
    assert row["bytes"] > 0 and row["sequences_per_s"] > 0
    assert report["environment"]["cpu_model"] and "cpu_flags" in report["environment"]
    assert (tmp_path / "serving_latency.png").stat().st_size > 0


def test_unknown_model_is_a_clear_error():
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bench", "serving_latency.py"),
         "--models", "gpt2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--models: unknown 'gpt2'" in proc.stderr
