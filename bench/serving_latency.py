"""Serving latency on this CPU: every way this library exports a model, next to what users
would pick instead.

Sections (`--sections`, default all):

* `latency`: for each model (`conv_bert_small`, `conv_bert_medium_small`, `conv_bert_base` and
  keras-hub BERT classifiers of matching size: `bert_small`, `bert_medium_small`,
  `bert_base`; random weights, speed does not depend on them) and each shape (batch x seq:
  1x128, 8x128, 32x128, 1x512): SavedModel fp32 with XLA (`sm_fp32_xla`, the default export)
  and without (`sm_fp32`), bf16 (`sm_bf16`, oneDNN; `sm_bf16_xla`; on request `sm_bf16_all`,
  the whole task in bf16, the earlier export), TFLite fp32 / fp16 /
  dynamic int8 (ids models, `num_threads` = CPU count). The SavedModel and TFLite variants of a
  (model, shape) are timed **round-robin** (one call of each per round), so load from other
  processes hits them alike: compare ratios within one run. ConvBERT models also get the
  anchors of `bench/serving_anchors.py` (HF PyTorch eager; ONNX Runtime fp32 / dynamic int8 of
  the same HF model with ORT's transformer optimizer), run right after in the `--anchor-python`
  interpreter (not interleaved: a separate process).
* `buckets`: a bucketed (default) and an unbucketed XLA export of `conv_bert_small`, each in a
  fresh process: warm up the buckets, then 100 distinct batch sizes; per size the first call's
  latency over a repeat call's (the compile spike), and the process's RSS before and after.
* `seqlen`: forward time (XLA SavedModel, batch 1) vs sequence length 64..512, ConvBERT-base
  vs BERT-base, round-robin.

Each (variant, shape) records p50 / p99 latency (ms), throughput (sequences/s at p50) and the
artifact's size. Writes `bench/results/serving_latency.json` (with the CPU model and flags)
and `bench/results/serving_latency.png`. With `--merge`, this run's results replace those of
the same name in an existing JSON: whole sections for `buckets` / `seqlen`, single
(model, variant, shape) rows for `latency` (the other shapes of a model are kept), so the full
table can be built from several shorter runs. Run under `flock /tmp/cpu.lock` on a shared machine.

Usage:
    python bench/serving_latency.py --quick                       # smoke test (< 30 s)
    python bench/serving_latency.py --models conv_bert_small,bert_small --sections latency
    python bench/serving_latency.py --sections buckets,seqlen --merge
    python bench/serving_latency.py --sections latency --shapes 32x128,1x512 --merge
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.serving_common import cpu_info, percentile  # noqa: E402

MODELS = ("conv_bert_small", "conv_bert_medium_small", "conv_bert_base",
          "bert_small", "bert_medium_small", "bert_base")
# `sm_bf16_all`: the whole task under Keras's `bfloat16` policy (the bf16 export before it
# gave bf16 to matmuls only); not in the default variants, run it with `--variants`.
SM_VARIANTS = ("sm_fp32_xla", "sm_fp32", "sm_bf16", "sm_bf16_xla", "sm_bf16_all")
LITE_VARIANTS = ("tflite_fp32", "tflite_fp16", "tflite_dynamic_int8")
ANCHORS = ("hf_torch_eager", "ort_fp32", "ort_dynamic_int8")
DEFAULT_SHAPES = "1x128,8x128,32x128,1x512"
# TFLite and bf16-XLA at the big shapes cost minutes per call set for little information.
SKIP = {"32x128": {"sm_bf16_xla", "tflite_fp16"}, "1x512": {"tflite_fp16"}}


def model_config(name, quick=False):
    """The backbone config of `name` (ConvBERT presets; BERT with the same L / D / H / FFN)."""
    from convbert_tf.models.presets import CONVBERT_PRESETS

    size = name.split("_", 2)[-1] if name.startswith("conv_bert") else name.split("_", 1)[1]
    config = dict(CONVBERT_PRESETS[f"conv_bert_{size}_en"]["config"])
    if quick:
        config.update(num_layers=1, max_sequence_length=128)
    return config


def build_task(name, quick=False):
    import keras
    import keras_hub

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.tasks import ConvBertTextClassifier

    keras.utils.set_random_seed(0)
    config = model_config(name, quick)
    if name.startswith("conv_bert"):
        return ConvBertTextClassifier(ConvBertBackbone(**config), 2, preprocessor=None), config
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=config["vocabulary_size"], num_layers=config["num_layers"],
        num_heads=config["num_heads"], hidden_dim=config["hidden_dim"],
        intermediate_dim=config["intermediate_dim"],
        max_sequence_length=config["max_sequence_length"])
    return keras_hub.models.BertTextClassifier(backbone, 2, preprocessor=None,
                                               activation=None), config


def dir_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def ids_inputs(batch, seq, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return {"token_ids": rng.integers(1, 30522, (batch, seq)).astype(np.int32),
            "segment_ids": np.zeros((batch, seq), np.int32),
            "padding_mask": np.ones((batch, seq), np.int32)}


def make_callables(task, variants, seq, work):
    """`{variant: (call(inputs) -> logits, bytes)}` for the SavedModel and TFLite variants."""
    import tensorflow as tf

    from convbert_tf.export import TFLitePredictor, export_saved_model, export_tflite
    from convbert_tf.export.precision import with_dtype_policy

    out = {}
    for variant in variants:
        path = os.path.join(work, f"{variant}_{seq}")
        if variant.startswith("sm_"):
            if variant == "sm_bf16_all":
                export_dir = export_saved_model(
                    with_dtype_policy(task, "bfloat16"), path, sequence_length=seq,
                    jit_compile=False, warmup_batch_sizes=())
            else:
                export_dir = export_saved_model(
                    task, path, sequence_length=seq,
                    precision="bfloat16" if "bf16" in variant else "float32",
                    jit_compile=variant.endswith("_xla"), warmup_batch_sizes=())
            sig = tf.saved_model.load(export_dir).signatures["serving_default"]
            out[variant] = (lambda x, sig=sig: sig(**{k: tf.constant(v) for k, v in x.items()}),
                            dir_bytes(export_dir))
        else:
            quantization = {"tflite_fp32": None, "tflite_fp16": "float16",
                            "tflite_dynamic_int8": "dynamic_int8"}[variant]
            export_tflite(task, path + ".tflite", quantization=quantization, sequence_length=seq)
            lite = TFLitePredictor(path + ".tflite", num_threads=os.cpu_count())
            out[variant] = (lite.predict_ids, dir_bytes(path + ".tflite"))
    return out


def round_robin(callables, inputs, rounds, budget_s):
    """Times each callable once per round (after one warmup call each); stops at `budget_s`."""
    for call, _ in callables.values():
        call(inputs)
    times = {name: [] for name in callables}
    start = time.perf_counter()
    for r in range(rounds):
        if r >= 3 and time.perf_counter() - start > budget_s:
            break
        for name, (call, _) in callables.items():
            t = time.perf_counter()
            call(inputs)
            times[name].append((time.perf_counter() - t) * 1000)
    return times


def summarize(times_ms, batch, size_bytes=None):
    p50 = statistics.median(times_ms)
    row = {"p50_ms": p50, "p99_ms": percentile(times_ms, 99), "runs": len(times_ms),
           "sequences_per_s": batch / p50 * 1000}
    if size_bytes is not None:
        row["bytes"] = size_bytes
    return row


def run_anchors(config, shapes, args):
    python = args.anchor_python
    if not python or not os.path.exists(python):
        reason = f"no --anchor-python interpreter with the bench extra ({python!r})"
        return {name: {"unavailable": reason} for name in ANCHORS}
    shape_arg = ",".join(f"{b}x{s}" for b, s in shapes)
    proc = subprocess.run(
        [python, os.path.join(REPO, "bench", "serving_anchors.py"), "--config",
         json.dumps(config), "--shapes", shape_arg, "--runs", str(args.rounds),
         "--budget-s", str(args.budget_s)],
        capture_output=True, text=True, timeout=1800)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        reason = f"anchor process failed (rc {proc.returncode}): {proc.stderr[-400:]}"
        return {name: {"unavailable": reason} for name in ANCHORS}


def section_latency(args, shapes, save=None):
    """`{model: {"config", "variants": {variant: {shape: row}}}}`; `save(results)` after each."""
    results = {}
    for name in args.models:
        task, config = build_task(name, args.quick)
        rows = {}
        by_seq = {}
        for b, s in shapes:
            by_seq.setdefault(s, []).append(b)
        with tempfile.TemporaryDirectory(prefix="serving_bench_") as work:
            for seq, batches in by_seq.items():
                callables = make_callables(task, args.variants, seq, work)
                for b in batches:
                    key = f"{b}x{seq}"
                    chosen = {k: v for k, v in callables.items() if k not in SKIP.get(key, ())}
                    times = round_robin(chosen, ids_inputs(b, seq), args.rounds, args.budget_s)
                    for variant, t in times.items():
                        rows.setdefault(variant, {})[key] = summarize(t, b, chosen[variant][1])
                    print(json.dumps({"model": name, "shape": key,
                                      **{v: round(rows[v][key]["p50_ms"], 2) for v in times}}),
                          flush=True)
                del callables
                gc.collect()
        if name.startswith("conv_bert") and not args.no_anchors:
            anchors = run_anchors(config, shapes, args)
            for variant in ANCHORS:
                entry = anchors.get(variant, {"unavailable": "not reported"})
                if "unavailable" not in entry:
                    entry = {k: {**v, "sequences_per_s": int(k.split("x")[0]) / v["p50_ms"] * 1000,
                                 **({"bytes": anchors["bytes"][variant]}
                                    if variant in anchors.get("bytes", {}) else {})}
                             for k, v in entry.items()}
                rows[variant] = entry
            rows["anchor_versions"] = anchors.get("versions", {})
            rows["ort_fusions"] = anchors.get("ort_fusions", {})
            print(json.dumps({"model": name, "anchors": {
                v: {k: round(x["p50_ms"], 2) for k, x in rows[v].items()}
                if "unavailable" not in rows[v] else rows[v] for v in ANCHORS}}), flush=True)
        results[name] = {"config": config, "variants": rows}
        if save:  # a long run's finished models survive a timeout
            save(results)
        del task
        gc.collect()
    return results


BUCKET_SCRIPT = r"""
import json, sys, time, numpy as np
import tensorflow as tf
sig = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
seq, buckets, sizes = int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
def ids(n):
    x = np.random.default_rng(n).integers(1, 30522, (n, seq)).astype(np.int32)
    return dict(token_ids=tf.constant(x), segment_ids=tf.zeros_like(x),
                padding_mask=tf.ones_like(x))
for b in buckets:  # TF Serving's warmup
    sig(**ids(b))
rss0, rows = rss(), []
for n in sizes:
    x = ids(n)
    t = time.perf_counter(); sig(**x); first = time.perf_counter() - t
    t = time.perf_counter(); sig(**x); repeat = time.perf_counter() - t
    rows.append([n, first * 1000, repeat * 1000])
print(json.dumps({"rss_warm_mib": rss0, "rss_after_mib": rss(), "rows": rows}))
"""


def section_buckets(args):
    """Bucketed vs unbucketed XLA export: first-call spikes and memory over 100 sizes."""
    import random

    from convbert_tf.export import export_saved_model
    from convbert_tf.export.serving_functions import DEFAULT_BATCH_BUCKETS

    task, _ = build_task("conv_bert_small", args.quick)
    # Sequence length 64 (the demo's): the compile spike does not depend on it, and 100
    # sizes up to batch 100 at 128 took over 10 minutes on the shared 2-core machine.
    seq = 32 if args.quick else 64
    sizes = list(range(1, 9 if args.quick else 101))
    random.Random(0).shuffle(sizes)
    # Unbucketed, every new size compiles (seconds each): its first 30 sizes show the spike and
    # the per-size memory growth well enough.
    unbucketed_sizes = sizes if args.quick else sizes[:30]
    out = {"model": "conv_bert_small", "sequence_length": seq,
           "sizes": {"bucketed": len(sizes), "unbucketed": len(unbucketed_sizes)}}
    with tempfile.TemporaryDirectory(prefix="bucket_bench_") as work:
        for label, buckets in (("bucketed", DEFAULT_BATCH_BUCKETS), ("unbucketed", ())):
            export_dir = export_saved_model(task, os.path.join(work, label), sequence_length=seq,
                                            batch_buckets=buckets, warmup_batch_sizes=())
            proc = subprocess.run(
                [sys.executable, "-c", BUCKET_SCRIPT, export_dir, str(seq),
                 json.dumps(list(buckets) or [1]),
                 json.dumps(sizes if buckets else unbucketed_sizes)],
                capture_output=True, text=True, timeout=1800,
                env=dict(os.environ, CUDA_VISIBLE_DEVICES=""))
            if proc.returncode:
                out[label] = {"error": proc.stderr[-600:]}
                continue
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            firsts = [r[1] for r in run["rows"]]
            ratios = [r[1] / r[2] for r in run["rows"]]
            out[label] = {
                "buckets": list(buckets),
                "first_call_ms_p50": statistics.median(firsts),
                "first_call_ms_p99": percentile(firsts, 99),
                "repeat_call_ms_p50": statistics.median(r[2] for r in run["rows"]),
                "first_over_repeat_p50": statistics.median(ratios),
                "first_over_repeat_p99": percentile(ratios, 99),
                "rss_warm_mib": run["rss_warm_mib"], "rss_after_mib": run["rss_after_mib"],
                "rss_growth_mib": run["rss_after_mib"] - run["rss_warm_mib"],
                "rows_size_first_repeat_ms": run["rows"],
            }
            print(json.dumps({k: v for k, v in out[label].items()
                              if k != "rows_size_first_repeat_ms"}), flush=True)
    return out


def section_seqlen(args):
    """Batch-1 forward time vs sequence length, ConvBERT-base vs BERT-base, round-robin.

    Times the export's XLA model function in process (the function a SavedModel signature
    calls), so that five lengths need five compilations, not ten exports.
    """
    import tensorflow as tf

    from convbert_tf.export.serving_functions import ServingFunctions

    lengths = (32, 64) if args.quick else (64, 128, 256, 384, 512)
    names = ("conv_bert_base", "bert_base") if not args.quick else ("conv_bert_small",
                                                                    "bert_small")
    tasks = {name: build_task(name, args.quick)[0] for name in names}
    out = {"models": list(names), "lengths": list(lengths), "p50_ms": {n: {} for n in names},
           "path": "XLA model function of the export (fp32), batch 1"}
    for seq in lengths:
        callables = {}
        for name, task in tasks.items():
            fn = ServingFunctions(task, sequence_length=seq, jit_compile=True).model_fn
            callables[name] = (lambda x, fn=fn: fn(*(tf.constant(x[k]) for k in
                                                     ("token_ids", "segment_ids",
                                                      "padding_mask"))), None)
        times = round_robin(callables, ids_inputs(1, seq), args.rounds, args.budget_s)
        for name, t in times.items():
            out["p50_ms"][name][str(seq)] = statistics.median(t)
        ratio = out["p50_ms"][names[0]][str(seq)] / out["p50_ms"][names[1]][str(seq)]
        out.setdefault("ratio", {})[str(seq)] = ratio
        print(json.dumps({"seq": seq, "ratio_convbert_over_bert": round(ratio, 3)}), flush=True)
    return out


def plot(report, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    latency = report.get("latency", {})
    ax = axes[0]
    labels, series = [], {}
    shape = "1x128"
    for entry in latency.values():
        shapes = entry["variants"].get("sm_fp32_xla", {})
        shape = shape if shape in shapes or not shapes else next(iter(shapes))
    for model, entry in latency.items():
        for variant, rows in entry["variants"].items():
            if not isinstance(rows, dict) or "unavailable" in rows or shape not in rows:
                continue
            series.setdefault(variant, {})[model] = rows[shape]["p50_ms"]
        labels.append(model)
    width = 0.8 / max(1, len(series))
    for i, (variant, values) in enumerate(sorted(series.items())):
        xs = [j + i * width for j, m in enumerate(labels) if m in values]
        ax.bar(xs, [values[m] for m in labels if m in values], width, label=variant)
    ax.set_xticks([j + 0.4 for j in range(len(labels))])
    ax.set_xticklabels(labels, rotation=20, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(f"p50 latency, batch x seq {shape} (ms, log)")
    if series:
        ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    seqlen = report.get("seqlen")
    if seqlen:
        for name in seqlen["models"]:
            xs = [int(k) for k in seqlen["p50_ms"][name]]
            ax.plot(xs, list(seqlen["p50_ms"][name].values()), marker="o", label=name)
        ax.set_xlabel("sequence length (batch 1)")
        ax.set_ylabel("p50 forward (ms), XLA SavedModel fp32")
        ax.legend()
    fig.suptitle(f"Serving latency: {report['environment']['cpu_model']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def merge_latency(old, new):
    """`old` latency section updated by `new` row by row: `{model: {"config", "variants":
    {variant: {shape: row}}}}`; a model's config and a variant's shapes not in `new` are kept.
    """
    merged = {name: {**entry, "variants": {v: dict(rows) for v, rows in entry["variants"].items()}}
              for name, entry in old.items()}
    for name, entry in new.items():
        target = merged.setdefault(name, {"config": entry["config"], "variants": {}})
        target["config"] = entry["config"]
        for variant, rows in entry["variants"].items():
            kept = target["variants"].get(variant, {})
            if "unavailable" in rows or "unavailable" in kept:  # a reason, not shape rows
                target["variants"][variant] = dict(rows)
            else:
                target["variants"][variant] = {**kept, **rows}
    return merged


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--variants", default=",".join(
        [v for v in SM_VARIANTS if v != "sm_bf16_all"] + list(LITE_VARIANTS)))
    parser.add_argument("--shapes", default=DEFAULT_SHAPES, help="batch x seq, comma-separated")
    parser.add_argument("--sections", default="latency,buckets,seqlen")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--budget-s", type=float, default=30.0,
                        help="stop timing a (model, shape) after this long (min 3 rounds)")
    parser.add_argument("--anchor-python",
                        default=os.environ.get("CONVBERT_BENCH_PYTHON", "/tmp/benchenv/bin/python"),
                        help="interpreter with torch, transformers, onnxruntime (bench extra)")
    parser.add_argument("--no-anchors", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="1-layer models, 1x32 only, 2 rounds, no anchors: smoke test")
    parser.add_argument("--merge", action="store_true")
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results",
                                                         "serving_latency.json"))
    args = parser.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.variants = [v for v in args.variants.split(",") if v]
    args.sections = [s for s in args.sections.split(",") if s]
    for model in args.models:
        if model not in MODELS:
            parser.error(f"--models: unknown {model!r}; choose from {', '.join(MODELS)}")
    for variant in args.variants:
        if variant not in SM_VARIANTS + LITE_VARIANTS:
            parser.error(f"--variants: unknown {variant!r}")
    if args.quick:
        args.models = [m for m in args.models if "small" in m and "medium" not in m] \
            or ["conv_bert_small"]
        args.shapes, args.rounds, args.budget_s, args.no_anchors = "1x32", 2, 5.0, True
        args.variants = [v for v in args.variants if v in ("sm_fp32_xla", "tflite_fp32")]
    return args


def main(argv=None):
    args = parse_args(argv)
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    import tensorflow as tf

    report = {}
    if args.merge and os.path.exists(args.output):
        with open(args.output) as f:
            report = json.load(f)
    env = {"tensorflow": tf.__version__, "cpu_count": os.cpu_count(),
           "load_average_start": os.getloadavg(), **cpu_info(), "quick": args.quick,
           "threads": "TF default intra-op (all cores); TFLite / torch / ORT num_threads = "
                      "cpu_count"}
    start = time.perf_counter()

    def write(report):
        os.makedirs(os.path.dirname(args.output), exist_ok=True)
        with open(args.output, "w") as f:
            json.dump(report, f, indent=1)

    if "latency" in args.sections:
        def save(results):
            write({**report, "latency": merge_latency(report.get("latency", {}), results),
                   "environment": env})

        report["latency"] = merge_latency(report.get("latency", {}),
                                          section_latency(args, shapes, save))
    if "buckets" in args.sections:
        report["buckets"] = section_buckets(args)
    if "seqlen" in args.sections:
        report["seqlen"] = section_seqlen(args)
    env["load_average_end"] = os.getloadavg()
    env["seconds"] = time.perf_counter() - start
    report.setdefault("runs", []).append({"sections": args.sections, "models": args.models,
                                          "shapes": args.shapes, **env})
    report["environment"] = env
    report["notes"] = (
        "Random weights. Within a (model, shape), SavedModel and TFLite variants are timed "
        "round-robin in one process (ratios are paired); anchors run in a separate process "
        "right after. The machine is shared with other jobs: compare ratios, not absolutes.")
    write(report)
    plot(report, os.path.splitext(args.output)[0] + ".png")
    print(f"Wrote {args.output}")
    return report


if __name__ == "__main__":
    main()
