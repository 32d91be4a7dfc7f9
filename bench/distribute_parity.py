"""How closely MirroredStrategy (2 logical CPUs) and 2-process MultiWorkerMirroredStrategy
reproduce a single-device run: the numbers README.md and docs/training.md quote.

Runs tests/training/distributed_worker.py (tiny ConvBERT, global batch 8, 3 epochs x 2 steps
of the fine-tuning recipe, XLA per replica) once per mode and records the max relative
difference of the epoch losses and the max absolute difference of the final weights against
the single-device run. Writes bench/results/distribute_parity.json.

    python bench/distribute_parity.py
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(HERE, "results",
                                                         "distribute_parity.json"))
    args = parser.parse_args(argv)

    import numpy as np

    from tests.training import test_distribute as helpers

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        helpers._finish(helpers._start("single", tmp, "single", helpers._env()))
        helpers._finish(helpers._start("mirrored", tmp, "mirrored", helpers._env()))
        ports = helpers._unused_ports(2, np.random.default_rng())
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        workers = [helpers._start("multi_worker", tmp, f"worker{i}", helpers._env(
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})))
            for i in range(2)]
        for worker in workers:
            helpers._finish(worker)
        single, single_weights = helpers._load(tmp, "single")
        results = {}
        for name in ("mirrored", "worker0", "worker1"):
            result, weights = helpers._load(tmp, name)
            losses, reference = np.asarray(result["losses"]), np.asarray(single["losses"])
            results[name] = {
                "replicas": result["replicas"],
                "max_rel_loss_diff": float(np.max(np.abs(losses - reference) / np.abs(reference))),
                "max_abs_weight_diff": float(max(np.max(np.abs(a - b))
                                                 for a, b in zip(weights, single_weights))),
            }
    record = {
        "command": "python bench/distribute_parity.py",
        "single_device_losses": single["losses"],
        "results": results,
        "max_rel_loss_diff": max(r["max_rel_loss_diff"] for r in results.values()),
        "max_abs_weight_diff": max(r["max_abs_weight_diff"] for r in results.values()),
        "test_bounds": {"loss_rtol": helpers.LOSS_RTOL, "weight_atol": helpers.WEIGHT_ATOL},
        "environment": {"platform": platform.platform(), "cpu_count": os.cpu_count()},
    }
    with open(args.output, "w") as handle:
        json.dump(record, handle, indent=1)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
