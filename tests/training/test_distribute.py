"""MirroredStrategy (2 logical CPUs) and 2-process MultiWorkerMirroredStrategy train exactly
like one device on the same global batch, with XLA on."""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "distributed_worker.py")
TIMEOUT_S = 600
# float32, summed in a different order across replicas. Measured (bench/distribute_parity.py,
# results/distribute_parity.json): losses 9.1e-8 relative, weights 7.5e-9 absolute, for both
# MirroredStrategy and MultiWorker. Bounds at ~10x (were 1e-5 for both).
LOSS_RTOL = 1e-6
WEIGHT_ATOL = 1e-7


def _ephemeral_range():
    with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
        low, high = (int(v) for v in handle.read().split())
    return low, high


def _unused_ports(count, rng):
    """`count` ports that are free now and outside the kernel's ephemeral range.

    Binding port 0 hands out an *ephemeral* port, exactly the pool from which every outgoing
    connection on the machine draws its local port, so between our close() and the worker's
    bind another process can take it. Ports below the ephemeral range are only ever taken by an
    explicit bind, so the window is closed against outgoing connections; a collision with
    another explicit bind is detected (the worker fails to bind) and retried with new ports.
    """
    low, _ = _ephemeral_range()
    ports = []
    while len(ports) < count:
        port = int(rng.integers(max(1024, low - 8000), low))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in ports:
            ports.append(port)
    return ports


BIND_FAILURES = ("Address already in use", "Failed to bind", "Could not start gRPC server")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", **extra)
    return env


def _start(mode, tmp_path, name, env):
    # Output to a file, not a pipe: a pipe nobody reads blocks a chatty worker.
    with open(tmp_path / f"{name}.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, WORKER, mode, str(tmp_path / "init.weights.h5"),
             str(tmp_path / name)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    process.log_path = tmp_path / f"{name}.log"
    return process


def _output(process):
    return process.log_path.read_text(errors="replace")


def _finish(process):
    try:
        process.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, _output(process)[-4000:]


def _finish_all(processes):
    """Waits for all workers; if one exits early with an error (e.g. it could not bind its
    port), the others would wait for it forever, so they are stopped. Returns the outputs."""
    outputs = [None] * len(processes)
    deadline = time.monotonic() + TIMEOUT_S
    while any(out is None for out in outputs):
        for i, process in enumerate(processes):
            if outputs[i] is None and process.poll() is not None:
                outputs[i] = _output(process)
                if process.returncode != 0:
                    for other in processes:
                        if other.poll() is None:
                            other.kill()
        if time.monotonic() > deadline:
            for process in processes:
                if process.poll() is None:
                    process.kill()
            raise TimeoutError(f"workers still running after {TIMEOUT_S} s")
        time.sleep(0.2)
    return outputs


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

    rng = np.random.default_rng()
    for attempt in range(3):
        ports = _unused_ports(2, rng)
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        workers = [
            _start("multi_worker", tmp_path, f"worker{i}", _env(TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": i}})))
            for i in range(2)
        ]
        outputs = _finish_all(workers)
        if not any(marker in out for out in outputs for marker in BIND_FAILURES):
            break
        print(f"attempt {attempt}: a port was taken between probe and bind, retrying")
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-4000:]

    for name, replicas in (("mirrored", 2), ("worker0", 2), ("worker1", 2)):
        result, weights = _load(tmp_path, name)
        assert result["replicas"] == replicas, name
        # XLA per replica: the forward/backward tf.function(jit_compile=True) was traced.
        assert result["xla_mode"] == "per_replica", name
        assert result["xla_functions"] == ["loss_and_gradients"], name
        np.testing.assert_allclose(result["losses"], single["losses"], rtol=LOSS_RTOL,
                                   err_msg=name)
        for got, want in zip(weights, single_weights):
            np.testing.assert_allclose(got, want, atol=WEIGHT_ATOL, err_msg=name)
    # The losses actually moved (the comparison is not between constants).
    assert single["losses"][-1] < single["losses"][0]


def test_ports_avoid_the_ephemeral_range_and_taken_ports():
    low, _ = _ephemeral_range()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", low - 1))
        taken.listen()
        # A one-port window that is taken plus the rest of the range below it.
        ports = _unused_ports(5, np.random.default_rng(0))
    assert len(set(ports)) == 5
    assert all(1024 <= port < low for port in ports)
