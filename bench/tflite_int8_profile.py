"""Why dynamic int8 TFLite is not faster than float at small model sizes: the same two files
timed with and without LiteRT's default XNNPACK delegate, per model size.

XNNPACK takes the float graph (FULLY_CONNECTED, BATCH_MATMUL, ...) as a few fused delegate
partitions; a dynamic-range int8 model's hybrid FULLY_CONNECTED ops run on the builtin kernels
instead, splitting the graph into many small partitions with float <-> int8 work between them.
Timing both files with the delegate off separates "int8 arithmetic is slower" from "int8 loses
XNNPACK". Ids models, batch 1 x `--seq`, round-robin, `num_threads` = CPU count. Writes
`bench/results/tflite_int8_profile.json`.

Usage:
    python bench/tflite_int8_profile.py --models conv_bert_small,conv_bert_medium_small
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.serving_common import cpu_info  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="conv_bert_small,conv_bert_medium_small")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results",
                                                         "tflite_int8_profile.json"))
    args = parser.parse_args()
    if args.quick:
        args.seq, args.rounds = 32, 2
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from bench.serving_latency import build_task, ids_inputs
    from convbert_tf.export import export_tflite, tflite_op_names

    report = {"seq": args.seq, "batch": 1, "models": {}}
    for name in args.models.split(","):
        task, _ = build_task(name, args.quick)
        with tempfile.TemporaryDirectory() as work:
            runners, ops = {}, {}
            for quantization in (None, "dynamic_int8"):
                path = os.path.join(work, f"{quantization}.tflite")
                export_tflite(task, path, quantization=quantization, sequence_length=args.seq)
                with open(path, "rb") as f:
                    ops[quantization or "float32"] = sorted(tflite_op_names(f.read()))
                for delegate in (True, False):
                    resolver = OpResolverType.AUTO if delegate else \
                        OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
                    interpreter = Interpreter(model_path=path, num_threads=os.cpu_count(),
                                              experimental_op_resolver_type=resolver)
                    key = f"{quantization or 'float32'}, {'XNNPACK' if delegate else 'builtin'}"
                    runners[key] = interpreter.get_signature_runner()
            x = ids_inputs(1, args.seq)
            for run in runners.values():
                run(**x)
            times = {k: [] for k in runners}
            for _ in range(args.rounds):
                for key, run in runners.items():
                    t = time.perf_counter()
                    run(**x)
                    times[key].append((time.perf_counter() - t) * 1000)
        p50 = {k: statistics.median(v) for k, v in times.items()}
        report["models"][name] = {
            "p50_ms": p50,
            "int8_speedup_with_xnnpack": p50["float32, XNNPACK"] / p50["dynamic_int8, XNNPACK"],
            "int8_speedup_builtin_kernels": p50["float32, builtin"] / p50["dynamic_int8, builtin"],
            "xnnpack_speedup_float32": p50["float32, builtin"] / p50["float32, XNNPACK"],
            "xnnpack_speedup_int8": p50["dynamic_int8, builtin"] / p50["dynamic_int8, XNNPACK"],
            "ops": ops,
        }
        print(json.dumps({name: {k: round(v, 2) for k, v in report["models"][name].items()
                                 if isinstance(v, float)} | {"p50": p50}}), flush=True)
    report["environment"] = {**cpu_info(), "rounds": args.rounds}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
