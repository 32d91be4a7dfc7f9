"""Where bf16 pays and where it does not: per-op time of the SavedModel export (no XLA, the
`precision="bfloat16"` path) in fp32 and bf16, ConvBERT-base next to keras-hub BERT-base.
`bfloat16` is the export (bf16 matmuls, float32 element-wise ops); `bfloat16_all` the whole
task under Keras's `bfloat16` policy, which this profile showed to be slower.

With the whole task in bf16, `bench/serving_latency.py` once measured ConvBERT-base gaining
much less than BERT-base at batch 32 x 128; this script showed which ops kept it from the same
gain (the element-wise ones), and now compares that export with the matmul-only one.
TensorFlow's step stats (`RunOptions.FULL_TRACE` on the exported signature, loaded in a v1
session: TF's public way to time every executed op, including those inside the SavedModel's
functions) give each op's duration. Ops overlap across inter-op threads, so the sums are op
time, not wall time; shares and fp32/bf16 ratios are what to read.

Each op is put in one component by its name scope (`span_conv`: ConvBERT's span-based dynamic
convolution; `attention`: the rest of the (mixed) attention; `ffn`; `layer_norm`; `other`) and
in one kind (`matmul`: MatMul / BatchMatMul / Einsum kernels; `elementwise`: the rest).

Writes `bench/results/serving_bf16_profile.json`. Run under `flock /tmp/cpu.lock`.

    python bench/serving_bf16_profile.py                      # base models, 32 x 128 (~4 min)
    python bench/serving_bf16_profile.py --quick              # 1-layer small models (smoke)
"""

import argparse
import collections
import json
import os
import re
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.serving_common import commit_stamp, cpu_info  # noqa: E402

COMPONENTS = (("span_conv", "span_conv"), ("layer_norm", "norm"),
              # GELU is applied by the ConvBERT layer itself (in float32 for bf16), not
              # inside the intermediate dense: its ops carry TF's `Gelu` scope.
              ("ffn", r"intermediate|output_dense|feedforward|Gelu"),
              ("attention", r"attention"))
MATMUL_OPS = re.compile(r"MatMul|Einsum|Conv2D")


def component(node_name):
    """The component of an op from its name scope (the first pattern that matches)."""
    for name, pattern in COMPONENTS:
        if re.search(pattern, node_name):
            return name
    return "other"


def op_type(timeline_label):
    """`name = OpType(inputs)` -> `OpType` (oneDNN kernels keep their `_Mkl` prefix)."""
    match = re.search(r"= (\w+)\(", timeline_label)
    return match.group(1) if match else "?"


def profile(export_dir, inputs, runs):
    """Per-op durations (ms per run, averaged over `runs` traced runs) of the signature."""
    import tensorflow as tf

    totals = collections.defaultdict(float)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], export_dir)
        signature = meta.signature_def["serving_default"]
        feed = {signature.inputs[k].name: v for k, v in inputs.items()}
        fetch = [t.name for t in signature.outputs.values()]
        for _ in range(2):  # warm-up: oneDNN primitive creation, allocations
            session.run(fetch, feed)
        options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
        wall = []
        for _ in range(runs):
            metadata = tf.compat.v1.RunMetadata()
            start = time.perf_counter()
            session.run(fetch, feed, options=options, run_metadata=metadata)
            wall.append(time.perf_counter() - start)
            for device in metadata.step_stats.dev_stats:
                for node in device.node_stats:
                    if node.node_name.startswith("_"):  # _SOURCE, _Arg, _Retval
                        continue
                    key = (node.node_name, op_type(node.timeline_label))
                    totals[key] += node.all_end_rel_micros / 1000.0
    return {key: value / runs for key, value in totals.items()}, sorted(wall)[len(wall) // 2]


def summarize(ops, wall_s):
    by_component, by_kind, by_type = (collections.defaultdict(float) for _ in range(3))
    for (name, kind), ms in ops.items():
        by_component[component(name)] += ms
        by_kind["matmul" if MATMUL_OPS.search(kind) else "elementwise"] += ms
        by_type[kind] += ms
    top = dict(sorted(by_type.items(), key=lambda kv: -kv[1])[:12])
    total = sum(ops.values())
    return {"op_ms": round(total, 2), "traced_wall_ms": round(wall_s * 1000, 2),
            "by_component_ms": {k: round(v, 2) for k, v in sorted(by_component.items())},
            "by_kind_ms": {k: round(v, 2) for k, v in sorted(by_kind.items())},
            "top_op_types_ms": {k: round(v, 2) for k, v in top.items()}}


def speedups(fp32, bf16):
    """fp32 / bf16 op time: in all, per component and per kind."""
    return {"op_time": round(fp32["op_ms"] / bf16["op_ms"], 3),
            **{f"component.{k}": round(v / bf16["by_component_ms"][k], 3)
               for k, v in fp32["by_component_ms"].items() if bf16["by_component_ms"].get(k)},
            **{f"kind.{k}": round(v / bf16["by_kind_ms"][k], 3)
               for k, v in fp32["by_kind_ms"].items() if bf16["by_kind_ms"].get(k)}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="conv_bert_base,bert_base")
    parser.add_argument("--shape", default="32x128", help="batch x seq")
    parser.add_argument("--runs", type=int, default=3, help="traced runs per export")
    parser.add_argument("--quick", action="store_true", help="1-layer small models, 2x32")
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results",
                                                         "serving_bf16_profile.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.models, args.shape, args.runs = "conv_bert_small,bert_small", "2x32", 1
    batch, seq = (int(v) for v in args.shape.split("x"))

    from bench.serving_latency import build_task, ids_inputs
    from convbert_tf.export import export_saved_model
    from convbert_tf.export.precision import with_dtype_policy

    report = {"machine": cpu_info(), "commit": commit_stamp(), "args": vars(args),
              "models": {}}
    inputs = ids_inputs(batch, seq)
    with tempfile.TemporaryDirectory() as work:
        for model in args.models.split(","):
            task, _ = build_task(model, quick=args.quick)
            # variant: (model exported, export precision). `bfloat16_all` is the whole task
            # under Keras's `bfloat16` policy (the export before bf16 went to matmuls only).
            variants = {"float32": (task, "float32"), "bfloat16": (task, "bfloat16"),
                        "bfloat16_all": (with_dtype_policy(task, "bfloat16"), "float32")}
            entry = {}
            for variant, (exported, precision) in variants.items():
                export_dir = export_saved_model(
                    exported, os.path.join(work, f"{model}_{variant}"), sequence_length=seq,
                    precision=precision, jit_compile=False, warmup_batch_sizes=())
                ops, wall = profile(export_dir, inputs, args.runs)
                entry[variant] = summarize(ops, wall)
            entry["bf16_speedup"] = speedups(entry["float32"], entry["bfloat16"])
            entry["bf16_all_speedup"] = speedups(entry["float32"], entry["bfloat16_all"])
            report["models"][model] = entry
            print(json.dumps({model: entry["bf16_speedup"]}), flush=True)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)
    print(f"Wrote {args.output}")
    return report


if __name__ == "__main__":
    main()
