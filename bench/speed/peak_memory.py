"""Child process: peak resident memory of one XLA training step (run via `python -m`).

Prints one JSON line: RSS after building the model and optimizer, and the process's high-water
mark (`VmHWM`, which covers XLA compilation too) after `--steps` training steps. Run in a fresh
process per model so that one model's peak never hides another's.
"""

import argparse
import json
import os
import resource


def _status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from bench.speed.models import model_config, workloads

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    config = model_config(args.model, args.quick)
    train = workloads(args.model, config, args.batch_size, args.seq_len, args.threads,
                      kinds=("train",))["train"]
    after_build = _status_kib("VmRSS")
    for _ in range(args.steps):
        train()
    hwm = _status_kib("VmHWM")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({
        "model": args.model, "batch_size": args.batch_size, "seq_len": args.seq_len,
        "steps": args.steps, "rss_after_build_mib": round(after_build / 1024, 1),
        "peak_rss_mib": round((hwm or maxrss) / 1024, 1),
    }))


if __name__ == "__main__":
    main()
