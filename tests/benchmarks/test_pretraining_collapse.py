"""`bench/pretraining_collapse.py --quick` (pipeline smoke) and its `--settings` parsing."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))

from pretraining_collapse import parse_setting, start_results  # noqa: E402


def test_settings_parse_and_bad_ones_are_named():
    assert parse_setting("lamb:1e-2") == {"name": "lamb_1e-2", "optimizer": "lamb",
                                          "learning_rate": 1e-2, "uniform_replacements": False,
                                          "initializer_range": None, "temperature": None}
    assert parse_setting("adamw:2e-3:uniform")["uniform_replacements"]
    both = parse_setting("adamw:2e-3:uniform:init0.05")
    assert both["uniform_replacements"] and both["initializer_range"] == 0.05
    assert both["name"] == "adamw_2e-3_uniform_init0.05"
    assert parse_setting("lamb:1e-2:temp3:init0.1")["temperature"] == 3.0
    for bad in ("sgd:1e-3", "lamb", "adamw:2e-3:noise", "adamw:x", "adamw:2e-3:init",
                "adamw:2e-3:init0", "adamw:2e-3:uniform:uniform", "lamb:1e-2:init1:init2",
                "lamb:1e-2:temp", "lamb:1e-2:temp-1"):
        with pytest.raises(Exception, match="optimizer:learning_rate"):
            parse_setting(bad)


@pytest.mark.subprocess
def test_quick_run_records_the_spread(tmp_path):
    # The BERT baseline with an initializer override: the one path of the benchmarks' BERT
    # code in the suite (the pretraining_efficiency smoke runs ConvBERT).
    output = tmp_path / "collapse.json"
    run = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "bench", "pretraining_collapse.py"),
         "--quick", "--models", "bert", "--settings", "adamw:2e-3:uniform:init0.05",
         "--output", str(output)],
        env={**os.environ, "PYTHONPATH": REPO_ROOT}, capture_output=True, text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    setting = json.loads(output.read_text())["models"]["bert"]["adamw_2e-3_uniform_init0.05"]
    assert [r["step"] for r in setting["history"]] == [0, 2, 4]
    # Step 0 is the fresh model: its outputs differ from sentence to sentence.
    assert setting["history"][0]["spread"] > 0.1
    assert "discriminator_recall" in setting["history"][-1]


def test_merge_keeps_the_other_rows(tmp_path):
    import argparse

    output = tmp_path / "collapse.json"
    old = {"machine": {"cpu": "old"}, "args": {}, "models": {"bert": {"adamw_2e-3": {"x": 1}}}}
    output.write_text(json.dumps(old))
    args = argparse.Namespace(merge=True, output=str(output), settings="lamb:1e-2")
    results = start_results(args, {"cpu": "new"})
    assert results["models"] == old["models"] and results["machine"] == {"cpu": "old"}
    assert results["merged"][0]["machine"] == {"cpu": "new"}
    args.merge = False
    assert start_results(args, {"cpu": "new"})["models"] == {}
