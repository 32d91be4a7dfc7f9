"""`bench/pretraining_efficiency.py --quick` end to end (pipeline smoke; it measures nothing)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))
import pretraining_efficiency  # noqa: E402  (bench/ is not a package)


@pytest.mark.subprocess
def test_quick_run_writes_results_and_chart(tmp_path):
    output = tmp_path / "pretraining_efficiency.json"
    run = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bench", "pretraining_efficiency.py"),
         # One model: the pipeline is the same for each (~75 s of tracing per model here).
         # GroupBERT pretraining is covered by tests/tasks/test_electra_pretrainer.py, the
         # benchmark's BERT baseline by tests/benchmarks/test_pretraining_collapse.py.
         "--quick", "--models", "convbert", "--output", str(output)],
        env={**os.environ, "PYTHONPATH": REPO_ROOT}, capture_output=True, text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(output.read_text())
    assert set(report["pretraining"]) == {"convbert"}
    assert report["corpus"]["sst2_train_full_sentences"]["lines"] == 6884
    for kind in report["pretraining"]:
        assert report["pretraining"][kind]["history"][-1]["step"] == 4
        for init in ("pretrained", "scratch"):
            assert 0.0 <= report["downstream"][kind][init]["sst2_100"]["mean"] <= 1.0
            probe = report["probe"][kind][init]
            assert set(probe) == {"first_token_100", "mean_100"}
            assert all(0.0 <= v <= 1.0 for v in probe.values())
    assert report["args"]["pooling"] == "mean"
    assert (tmp_path / "pretraining_efficiency.png").stat().st_size > 10_000
    assert report["machine"]["cores"] >= 1
    assert not list(tmp_path.glob("*.tmp"))  # written, then renamed


@pytest.mark.subprocess
def test_plot_from_a_stopped_runs_partial_results(tmp_path):
    # A run stopped inside a model's fine-tuning leaves that model's finished tasks only
    # (save() after every task); --plot-from still draws, unfinished bars blank.
    history = [{"seconds": 10.0 * i, "rtd_loss": 0.5 - 0.01 * i,
                "discriminator_recall": 0.05 * i} for i in range(4)]
    partial = {"tasks": ["sst2_1k", "cola"],
               "pretraining": {"convbert": {"history": history}},
               "downstream": {"convbert": {"pretrained": {
                   "sst2_1k": {"mean": 0.67, "std": 0.02}}}}}
    results = tmp_path / "partial.json"
    results.write_text(json.dumps(partial))
    run = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bench", "pretraining_efficiency.py"),
         "--plot-from", str(results)],
        env={**os.environ, "PYTHONPATH": REPO_ROOT}, capture_output=True, text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "partial.png").stat().st_size > 10_000


def _results(models, seconds, **args):
    """A results file's shape with `models` pretrained and fine-tuned (values are tags)."""
    return {"machine": {"cpu": "AMD EPYC", "flags": ["avx2"], "cores": 2}, "tasks": ["rte"],
            "recipe": {"name": "small_budget"}, "corpus": {"cola_train": {"lines": 1}},
            "args": {"models": ",".join(models), "seeds": 3, "output": "a.json",
                     "merge": False, "plot_from": None, **args},
            "pretraining": {m: {"steps": m} for m in models},
            "downstream": {m: {"pretrained": {"rte": {"mean": m}}} for m in models},
            "probe": {m: {"pretrained": m} for m in models},
            "commit": "c-" + "-".join(models), "seconds": seconds}


def test_merge_adds_a_model_run_separately_and_keeps_each_runs_provenance():
    # A file from before `runs` existed (the committed one): its top-level commit and
    # seconds become its run's.
    merged = pretraining_efficiency.merge_results(
        _results(["convbert", "bert"], 100.0),
        _results(["groupbert"], 50.0, output="b.json", merge=True))
    assert list(merged["pretraining"]) == ["convbert", "bert", "groupbert"]
    assert merged["downstream"]["bert"]["pretrained"]["rte"]["mean"] == "bert"
    assert merged["probe"]["groupbert"] == {"pretrained": "groupbert"}
    assert merged["runs"] == [
        {"models": ["convbert", "bert"], "commit": "c-convbert-bert", "seconds": 100.0},
        {"models": ["groupbert"], "commit": "c-groupbert", "seconds": 50.0}]
    assert merged["seconds"] == 150.0
    assert merged["args"]["models"] == "convbert,bert,groupbert"
    # Rerunning a model replaces it (and its time) instead of counting it twice.
    again = pretraining_efficiency.merge_results(merged, _results(["bert"], 40.0))
    assert again["runs"] == [
        {"models": ["convbert"], "commit": "c-convbert-bert", "seconds": 100.0},
        {"models": ["groupbert"], "commit": "c-groupbert", "seconds": 50.0},
        {"models": ["bert"], "commit": "c-bert", "seconds": 40.0}]
    assert again["seconds"] == 190.0


@pytest.mark.parametrize("field, change", [
    ("seeds", {"args": {"seeds": 5}}),
    ("machine", {"machine": {"cpu": "Intel Xeon", "flags": ["amx"], "cores": 2}}),
    ("tasks", {"tasks": ["rte", "cola"]}),
])
def test_merge_refuses_a_run_that_measured_something_else(field, change):
    previous = _results(["convbert"], 10.0)
    current = _results(["groupbert"], 10.0)
    for key, value in change.items():
        current[key] = {**current[key], **value} if key == "args" else value
    with pytest.raises(ValueError, match=field):
        pretraining_efficiency.merge_results(previous, current)
