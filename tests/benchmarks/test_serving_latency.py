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


def test_merge_replaces_rows_and_keeps_the_other_shapes():
    sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
    from serving_latency import merge_latency

    old = {"m": {"config": {"d": 1}, "variants": {
        "sm_fp32": {"1x128": {"p50_ms": 1.0}, "8x128": {"p50_ms": 8.0}},
        "ort_fp32": {"unavailable": "no onnxruntime"}}},
        "other": {"config": {}, "variants": {"sm_fp32": {"1x128": {"p50_ms": 3.0}}}}}
    new = {"m": {"config": {"d": 2}, "variants": {
        "sm_fp32": {"8x128": {"p50_ms": 7.0}, "32x128": {"p50_ms": 30.0}},
        "ort_fp32": {"32x128": {"p50_ms": 20.0}}}}}
    merged = merge_latency(old, new)
    assert merged["m"]["config"] == {"d": 2}
    assert merged["m"]["variants"]["sm_fp32"] == {
        "1x128": {"p50_ms": 1.0}, "8x128": {"p50_ms": 7.0}, "32x128": {"p50_ms": 30.0}}
    # A reason is not merged with shape rows: the new rows replace it.
    assert merged["m"]["variants"]["ort_fp32"] == {"32x128": {"p50_ms": 20.0}}
    assert merged["other"] == old["other"]
    assert old["m"]["variants"]["sm_fp32"]["8x128"] == {"p50_ms": 8.0}  # input untouched
