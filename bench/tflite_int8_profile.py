"""Why dynamic int8 TFLite is not faster than float at small model sizes: the same two files
timed with and without LiteRT's default XNNPACK delegate, per model size.

XNNPACK takes the float graph (FULLY_CONNECTED, BATCH_MATMUL, ...) as a few fused delegate
partitions; a dynamic-range int8 model's hybrid FULLY_CONNECTED ops run on the builtin kernels
instead, splitting the graph into many small partitions with float <-> int8 work between them.
Timing both files with the delegate off separates "int8 arithmetic is slower" from "int8 loses
XNNPACK". Ids models, batch 1 x `--seq`, round-robin, `num_threads` = CPU count. Writes
`bench/results/tflite_int8_profile.json`.

Per-op profile (`--perf`, needs Linux `perf`): LiteRT's Python API has no op profiler (its
`benchmark_model` tool is not in the wheel), so each (model, quantization) file runs in a
child process, warmed up, while `perf record` samples it; the samples' symbols (the wheel's
`libpywrap_litert_common.so` keeps its static symbols) are grouped into the kernels they
belong to (`KERNELS`: XNNPACK fp32 GEMM, XNNPACK dynamic-int8 GEMM, activation quantization,
softmax, ...). The share per kernel says where the int8 model's time goes.

Usage:
    python bench/tflite_int8_profile.py --models conv_bert_small,conv_bert_medium_small
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.serving_common import cpu_info  # noqa: E402

# Symbol pattern -> kernel key, first match wins (perf's demangled symbol names, lower-cased).
# Keys: XNNPACK fp32 GEMM (FULLY_CONNECTED / BATCH_MATMUL), XNNPACK int8 GEMM (dynamic-range
# FULLY_CONNECTED), activation quantization (range search + f32 -> int8), transpose, softmax,
# GELU, builtin GEMM / FULLY_CONNECTED (no delegate), LayerNorm parts (MEAN, RSQRT, ...),
# element-wise, data movement (GATHER, PAD, copies, weight packing), thread pool (dispatch and
# spin-wait; kernel).
KERNELS = (
    (r"xnn_qd8_f32_qc\d*w_(i)?gemm|xnn_qd8_f16|xnn_qs8_qc8w|xnn_qs8_.*gemm", "xnnpack_int8_gemm"),
    (r"xnn_f32_qd8_convert|xnn_f32_qs8|xnn_qd8_|quantize|rminmax", "activation_quantization"),
    (r"xnn_f32_(i)?gemm|xnn_f32_ppmm|xnn_pf32|xnn_f32_.*gemm", "xnnpack_fp32_gemm"),
    (r"xnn_x32_transpose|xnn_.*transpose|transpose", "transpose"),
    (r"raddstoreexpminusmax|rmax|softmax|xnn_f32_vexp", "softmax"),
    (r"gelu|verf|vtanh", "gelu"),
    (r"batch_matmul|batchmatmul|ruy::|gemmlowp|eigen.*contract|cpu_backend_gemm", "builtin_gemm"),
    (r"fully_connected", "builtin_fully_connected"),
    (r"layernorm|rsqrt|squared_difference|mean|reduce|vsqrdiff", "layernorm_parts"),
    (r"xnn_f32_v(add|mul|sub|div|min|max|sqr)|vbinary|vunary|add|mul|sub", "elementwise"),
    (r"gather|concatenation|pad|strided_slice|reshape|copy|memcpy|memmove|memset|packw",
     "data_movement"),
    (r"pthreadpool|thread_main|thread_parallelize|futex|sched_yield|spin|\[kernel|syscall|"
     r"native_", "thread_pool"),
)


def kernel_of(symbol):
    lowered = symbol.lower()
    for pattern, kernel in KERNELS:
        if re.search(pattern, lowered):
            return kernel
    return "other"


def child_run(path, seq, seconds):
    """Child of `--perf`: warm up, print the PID, then invoke for `seconds`."""
    from ai_edge_litert.interpreter import Interpreter

    from bench.serving_latency import ids_inputs

    run = Interpreter(model_path=path, num_threads=os.cpu_count()).get_signature_runner()
    x = ids_inputs(1, seq)
    for _ in range(3):
        run(**x)
    print("ready", flush=True)
    calls, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        run(**x)
        calls += 1
    print(calls, flush=True)


def perf_profile(path, seq, seconds, work):
    """Samples a warmed-up child running `path` with `perf record`; share of time per kernel."""
    child = subprocess.Popen([sys.executable, __file__, "--child", path, "--seq", str(seq),
                              "--seconds", str(seconds + 2)],
                             stdout=subprocess.PIPE, text=True, env={**os.environ,
                                                                     "PYTHONPATH": REPO})
    assert child.stdout.readline().strip() == "ready"
    data = os.path.join(work, "perf.data")
    subprocess.run(["perf", "record", "-q", "-F", "1999", "-p", str(child.pid), "-o", data,
                    "--", "sleep", str(seconds)], check=True, capture_output=True)
    child.wait()
    report = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                             "--sort", "symbol", "--percent-limit", "0.05"],
                            check=True, capture_output=True, text=True).stdout
    kernels, symbols = {}, []
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+\[.\]\s+(.*\S)", line)
        if not match:
            continue
        share, symbol = float(match.group(1)), match.group(2).strip()
        kernel = kernel_of(symbol)
        kernels[kernel] = kernels.get(kernel, 0.0) + share
        symbols.append({"symbol": symbol[:120], "percent": share, "kernel": kernel})
    return {"kernels_percent": {k: round(v, 2) for k, v in
                                sorted(kernels.items(), key=lambda kv: -kv[1])},
            "top_symbols": symbols[:15], "seconds_sampled": seconds}


def main():
    if "--child" in sys.argv:
        child = argparse.ArgumentParser()
        child.add_argument("--child")
        child.add_argument("--seq", type=int)
        child.add_argument("--seconds", type=float)
        known = child.parse_args()
        return child_run(known.child, known.seq, known.seconds)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="conv_bert_small,conv_bert_medium_small")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--perf", action="store_true",
                        help="also sample each file with Linux `perf` (per-kernel shares)")
    parser.add_argument("--perf-seconds", type=float, default=8.0)
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
            runners, ops, profiles = {}, {}, {}
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
                if args.perf:
                    profiles[quantization or "float32"] = perf_profile(
                        path, args.seq, args.perf_seconds, work)
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
        if profiles:
            report["models"][name]["perf_profile"] = profiles
        print(json.dumps({name: {k: round(v, 2) for k, v in report["models"][name].items()
                                 if isinstance(v, float)} | {"p50": p50}}), flush=True)
    report["environment"] = {**cpu_info(), "rounds": args.rounds}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
