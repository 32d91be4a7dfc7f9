"""`bench/serving_common.py`: the commit stamp every benchmark writes next to its numbers."""

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))

from serving_common import commit_stamp  # noqa: E402


def test_commit_stamp_marks_uncommitted_code(tmp_path):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    assert commit_stamp(str(tmp_path)) is None  # not a checkout
    git("init", "-q")
    (tmp_path / "convbert_tf").mkdir()
    (tmp_path / "convbert_tf" / "model.py").write_text("A = 1\n")
    (tmp_path / "notes.txt").write_text("x\n")
    git("add", "-A")
    git("commit", "-qm", "first")
    clean = commit_stamp(str(tmp_path))
    assert len(clean) >= 7 and "+" not in clean
    (tmp_path / "notes.txt").write_text("y\n")  # outside the code: still clean
    assert commit_stamp(str(tmp_path)) == clean
    (tmp_path / "convbert_tf" / "model.py").write_text("A = 2\n")
    assert commit_stamp(str(tmp_path)) == clean + "+dirty"
