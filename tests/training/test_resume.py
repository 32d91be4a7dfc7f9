"""Exact resume of the GLUE runner, with shuffling and dropout on, from mid-epoch: a runner
process killed with SIGKILL at a random step, then rerun with the same command, ends with
exactly the weights, optimizer state and dev metrics of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from convbert_tf.training.glue import train_index_batches

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "glue_resume_worker.py")
TIMEOUT_S = 300
EPOCHS, STEPS_PER_EPOCH = 3, 4  # glue_resume_worker.py: batch 4 over 18 examples
WORDS = ["good", "bad", "film", "plot", "dull", "great", "fun", "slow", "witty", "boring"]


def write_sst2(root, n_train=18, n_dev=8):
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(root, "SST-2"))
    for name, n in (("train.tsv", n_train), ("dev.tsv", n_dev)):
        lines = ["sentence\tlabel"]
        lines += [f"{' '.join(rng.choice(WORDS, 5))}\t{rng.integers(0, 2)}" for _ in range(n)]
        with open(os.path.join(root, "SST-2", name), "w") as handle:
            handle.write("\n".join(lines) + "\n")


def _command(tmp_path, output_dir, name):
    return [sys.executable, WORKER, str(tmp_path / "glue"), str(tmp_path / output_dir),
            str(tmp_path / name)]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")


def _run(command):
    result = subprocess.run(command, capture_output=True, text=True, env=_env(),
                            timeout=TIMEOUT_S)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


def _run_and_kill_at(command, kill_step):
    """Starts the runner and SIGKILLs it at step `kill_step`: the runner waits for a go-ahead
    after each step (RESUME_TEST_HANDSHAKE), so the kill lands exactly there, before that
    step's backup."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env=dict(_env(), RESUME_TEST_HANDSHAKE="1"))
    try:
        for line in process.stdout:
            if line.strip() == f"STEP {kill_step}":
                os.kill(process.pid, signal.SIGKILL)
                break
            if line.startswith("STEP "):
                process.stdin.write("go\n")
                process.stdin.flush()
        process.wait(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL


def _load(tmp_path, name):
    arrays = np.load(tmp_path / f"{name}.npz")
    with open(tmp_path / f"{name}.json") as handle:
        return [arrays[k] for k in sorted(arrays.files, key=lambda k: int(k[4:]))], \
            json.load(handle)


def test_batches_are_a_function_of_the_global_step():
    index = train_index_batches(18, 4, epochs=3, seed=0)
    assert index.shape == (12, 4)
    np.testing.assert_array_equal(index, train_index_batches(18, 4, epochs=3, seed=0))
    # Each epoch is its own permutation (shuffling on), cut to whole batches.
    epochs = index.reshape(3, 16)
    assert all(len(set(epoch.tolist())) == 16 for epoch in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(index, train_index_batches(18, 4, epochs=3, seed=1))


@pytest.mark.subprocess
@pytest.mark.slow
def test_runner_killed_at_a_random_step_resumes_exactly(tmp_path):
    write_sst2(str(tmp_path / "glue"))
    # A random step >= 3 (printed, so that a failure can be replayed; killed at 2, no backup
    # exists yet). Backups are every 2 steps and the kill comes before step `kill_step`'s own
    # backup, so the resumed run redoes 1 or 2 steps, often from mid-epoch.
    kill_step = int(np.random.default_rng().integers(3, EPOCHS * STEPS_PER_EPOCH))
    print(f"kill at step {kill_step}")
    # The uninterrupted reference runs alongside the run that gets killed.
    with open(tmp_path / "full.log", "w") as log:
        reference = subprocess.Popen(_command(tmp_path, "full", "full"), stdout=log,
                                     stderr=subprocess.STDOUT, env=_env())
    try:
        _run_and_kill_at(_command(tmp_path, "resumed", "unused"), kill_step)
        reference.wait(timeout=TIMEOUT_S)
    finally:
        if reference.poll() is None:
            reference.kill()
    assert reference.returncode == 0, (tmp_path / "full.log").read_text()[-4000:]
    assert (tmp_path / "resumed" / "backup" / "state.npz").is_file()
    output = _run(_command(tmp_path, "resumed", "resumed"))
    backed_up = 2 * ((kill_step - 1) // 2)  # the last backup before the kill
    epoch, batch = divmod(backed_up, STEPS_PER_EPOCH)
    assert "resuming from" in output and f"at step {backed_up} (epoch {epoch}, batch {batch})" \
        in output
    steps = [int(line.split()[1]) for line in output.splitlines() if line.startswith("STEP")]
    assert steps == list(range(backed_up + 1, EPOCHS * STEPS_PER_EPOCH + 1))

    full, full_logs = _load(tmp_path, "full")
    resumed, resumed_logs = _load(tmp_path, "resumed")
    assert len(full) == len(resumed)
    # Same batches, same dropout masks, same optimizer state and step: bit for bit on one
    # CPU (measured: max |difference| 0.0 over every weight and optimizer variable).
    for got, want in zip(resumed, full):
        np.testing.assert_array_equal(got, want)
    for key in ("val_loss", "val_accuracy"):
        assert resumed_logs[key] == full_logs[key], key
    # The run really trained (the comparison is not between untouched weights).
    assert full_logs["val_loss"] > 0
