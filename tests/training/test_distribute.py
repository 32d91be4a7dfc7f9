"""MirroredStrategy (2 logical CPUs) and 2-process MultiWorkerMirroredStrategy train exactly
like one device on the same global batch, with XLA on."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")
TIMEOUT_S = 600
# float32, summed in a different order across replicas: relative agreement of the losses.
LOSS_RTOL = 1e-5
WEIGHT_ATOL = 1e-5


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", **extra)
    return env


def _start(mode, tmp_path, name, env):
    return subprocess.Popen(
        [sys.executable, WORKER, mode, str(tmp_path / "init.weights.h5"), str(tmp_path / name)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(process):
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, output[-4000:]


def _load(tmp_path, name):
    with open(tmp_path / f"{name}.json") as handle:
        result = json.load(handle)
    weights = np.load(tmp_path / f"{name}.npz")
    return result, [weights[k] for k in sorted(weights.files, key=lambda k: int(k[4:]))]


@pytest.mark.subprocess
@pytest.mark.slow
def test_mirrored_and_multi_worker_match_single_device(tmp_path):
    _finish(_start("single", tmp_path, "single", _env()))
    single, single_weights = _load(tmp_path, "single")
    assert single["replicas"] == 1 and single["xla_mode"] == "step"
    assert single["xla_functions"] == ["one_step_on_data"]

    mirrored_process = _start("mirrored", tmp_path, "mirrored", _env())
    _finish(mirrored_process)

    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = [
        _start("multi_worker", tmp_path, f"worker{i}", _env(TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": i}})))
        for i in range(2)
    ]
    for worker in workers:
        _finish(worker)

    for name, replicas in (("mirrored", 2), ("worker0", 2), ("worker1", 2)):
        result, weights = _load(tmp_path, name)
        assert result["replicas"] == replicas, name
        # XLA per replica: the forward/backward tf.function(jit_compile=True) was traced.
        assert result["xla_mode"] == "per_replica", name
        assert result["xla_functions"] == ["_loss_and_gradients"], name
        np.testing.assert_allclose(result["losses"], single["losses"], rtol=LOSS_RTOL,
                                   err_msg=name)
        for got, want in zip(weights, single_weights):
            np.testing.assert_allclose(got, want, atol=WEIGHT_ATOL, err_msg=name)
    # The losses actually moved (the comparison is not between constants).
    assert single["losses"][-1] < single["losses"][0]
