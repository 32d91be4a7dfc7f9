import subprocess
import sys

import pytest

from convbert_tf.cli import main


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "info" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["no-such-command"], ["info", "--no-such-flag"], []])
def test_bad_usage_prints_usage_and_fails(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage: convbert-tf" in capsys.readouterr().err


def test_info_lists_presets(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for name in ("conv_bert_small_en", "conv_bert_base_en", "group_bert_large_en"):
        assert name in out


def test_console_script_help_is_fast():
    result = subprocess.run([sys.executable, "-m", "convbert_tf", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "COMMAND" in result.stdout


def test_import_is_fast():
    code = "import time; t = time.perf_counter(); import convbert_tf; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert float(result.stdout) < 5.0
