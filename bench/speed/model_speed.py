"""Side-by-side speed of ConvBERT / GroupBERT (this library), keras-hub BERT and HF ConvBERT.

One run times, round-robin (so machine load affects every model alike), after warm-up:

* main: forward and training step (AdamW, XLA) at batch 8 x seq 128, fp32, median of
  `--repeats` runs, for every model; seconds, tokens/s, achieved GFLOP/s (analytic FLOPs, see
  `bench.speed.flops`), ratios against keras-hub BERT-base and HF ConvBERT-base;
* xla: training step with and without XLA, per library preset;
* seq512: forward at seq 512 (batch 2: the same 1024 tokens);
* bf16: forward in mixed_bfloat16 against fp32;
* memory: peak RSS of one XLA training step at batch 32 x 128, one subprocess per model;
* split: per-sublayer forward times of one ConvBERT-base layer against a BERT-base layer.

Writes a JSON file and a PNG bar chart. `--quick` uses tiny configs and 2 repeats (a smoke
test of the whole pipeline, not a measurement).
"""

import argparse
import datetime
import gc
import json
import os
import platform
import subprocess
import sys

from bench.speed.flops import model_flops_per_token
from bench.speed.models import MODELS, model_config, torch_available, workloads
from bench.speed.timing import load_average, time_round_robin

SECTIONS = ("main", "xla", "seq512", "bf16", "memory", "split")
LIBRARY_PRESETS = ("convbert_small", "convbert_medium_small", "convbert_base", "groupbert_base")
SCHEMA_VERSION = 1

# Targets of issue #8: (name, numerator model, denominator model, workload, max ratio).
TIME_TARGETS = (
    ("convbert_base forward <= 0.93x bert_base", "convbert_base", "bert_base", "forward", 0.93),
    ("convbert_base forward <= 0.75x hf_convbert_base", "convbert_base", "hf_convbert_base",
     "forward", 0.75),
    ("convbert_base train <= 0.95x bert_base", "convbert_base", "bert_base", "train", 0.95),
    ("convbert_base train <= 0.85x hf_convbert_base", "convbert_base", "hf_convbert_base",
     "train", 0.85),
)


def _log(message):
    print(f"[bench {datetime.datetime.now():%H:%M:%S} load={load_average()}] {message}",
          file=sys.stderr, flush=True)


def _free():
    """Drops Keras / TF state between sections (models are only referenced by closures)."""
    import keras

    keras.backend.clear_session()
    gc.collect()


def _annotate(result, flops_per_token, tokens):
    result["tokens_per_s"] = tokens / result["median_s"]
    result["gflop_per_s"] = flops_per_token * tokens / result["median_s"] / 1e9
    return result


def _flops(name, config, seq_len):
    forward = model_flops_per_token(MODELS[name].kind, config, seq_len)
    # A training step: forward + backward (2x forward), the usual convention.
    return {"forward": forward, "train": 3 * forward}


def run_main(models, args, threads):
    """Forward and train step of every model, each workload timed round-robin."""
    fns, flops, configs = {}, {}, {}
    for name in models:
        _log(f"building {name}")
        configs[name] = model_config(name, args.quick)
        flops[name] = _flops(name, configs[name], args.seq_len)
        suffix = "" if args.xla or MODELS[name].framework == "torch" else "_no_xla"
        kinds = ["forward" + suffix, "train" + suffix]
        if "xla" in args.sections and args.xla and name in LIBRARY_PRESETS:
            kinds.append("train_no_xla")
        fns[name] = workloads(name, configs[name], args.batch_size, args.seq_len, threads,
                              kinds=kinds)
        # The main table's workloads are "forward" / "train" whichever way they were compiled.
        fns[name]["forward"], fns[name]["train"] = fns[name][kinds[0]], fns[name][kinds[1]]
    tokens = args.batch_size * args.seq_len
    results = {name: {} for name in models}
    for workload in ("forward", "train"):
        _log(f"timing {workload} of {', '.join(models)}")
        timed = time_round_robin({name: fns[name][workload] for name in models},
                                 args.repeats, args.warmup)
        for name, result in timed.items():
            results[name][workload] = _annotate(result, flops[name][workload], tokens)
    xla = {}
    for name in models:
        if not (args.xla and "xla" in args.sections and name in LIBRARY_PRESETS):
            continue
        _log(f"timing train step of {name} with and without XLA")
        timed = time_round_robin({"xla_on": fns[name]["train"],
                                  "xla_off": fns[name]["train_no_xla"]},
                                 args.extra_repeats, args.warmup)
        xla[name] = {
            "train_xla_on_s": timed["xla_on"]["median_s"],
            "train_xla_off_s": timed["xla_off"]["median_s"],
            "speedup_on_vs_off": timed["xla_off"]["median_s"] / timed["xla_on"]["median_s"],
            "times": timed,
        }
    fns.clear()
    _free()
    return results, flops, configs, xla


def ratios(results, denominator):
    """`model time / denominator time` per workload (None where either is missing)."""
    if denominator not in results:
        return {}
    out = {}
    for name, workloads_ in results.items():
        out[name] = {
            workload: result["median_s"] / results[denominator][workload]["median_s"]
            for workload, result in workloads_.items()
            if workload in results[denominator]
        }
    return out


def run_variants(variants, args, threads, batch_size, seq_len):
    """Times `{label: (model, dtype, kind)}` forward variants round-robin."""
    fns, flops = {}, {}
    for label, (name, dtype, kind) in variants.items():
        _log(f"building {label}")
        config = model_config(name, args.quick)
        flops[label] = _flops(name, config, seq_len)["forward"]
        fns[label] = workloads(name, config, batch_size, seq_len, threads, dtype=dtype,
                               kinds=(kind,))[kind]
    _log(f"timing {', '.join(variants)}")
    timed = time_round_robin(fns, args.extra_repeats, args.warmup)
    for label, result in timed.items():
        _annotate(result, flops[label], batch_size * seq_len)
        result.update(batch_size=batch_size, seq_len=seq_len)
    fns.clear()
    _free()
    return timed


def run_memory(models, args, threads):
    """Peak RSS of a training step per model, each in its own subprocess."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [root, os.environ.get("PYTHONPATH")])))
    out = {}
    for name in models:
        _log(f"peak RSS of {name} (subprocess)")
        cmd = [sys.executable, "-m", "bench.speed.peak_memory", "--model", name,
               "--batch-size", str(args.memory_batch_size), "--seq-len", str(args.seq_len),
               "--threads", str(threads)] + (["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            out[name] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        # The child's own VmHWM: RUSAGE_CHILDREN's ru_maxrss would also count the pages of
        # this (large) parent that the child held between fork and exec.
        out[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def check_targets(report):
    """Evaluates the issue's targets on the measured numbers (skipped where not measured)."""
    results, checks = report["results"], []
    for label, num, den, workload, limit in TIME_TARGETS:
        if num in results and den in results:
            value = results[num][workload]["median_s"] / results[den][workload]["median_s"]
            checks.append({"target": label, "value": value, "limit": limit,
                           "met": value <= limit})
    if "convbert_base" in results and "bert_base" in results:
        value = (results["convbert_base"]["forward"]["gflop_per_s"]
                 / results["bert_base"]["forward"]["gflop_per_s"])
        checks.append({"target": "convbert_base forward GFLOP/s >= 0.9x bert_base",
                       "value": value, "limit": 0.9, "met": value >= 0.9})
    for name, entry in report.get("xla_on_vs_off", {}).items():
        checks.append({"target": f"{name} train step: XLA on faster than off",
                       "value": entry["speedup_on_vs_off"], "limit": 1.0,
                       "met": entry["speedup_on_vs_off"] > 1.0})
    return checks


def environment(threads):
    """Versions, CPU and thread counts of this run."""
    import keras
    import keras_hub
    import tensorflow as tf

    env = {
        "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": keras.__version__, "keras_hub": keras_hub.__version__,
        "machine": platform.machine(), "cpu_count": os.cpu_count(), "threads": threads,
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
    }
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            env["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo
                              if line.startswith("model name"))
    except (OSError, StopIteration):
        env["cpu"] = platform.processor()
    if torch_available():
        import torch
        import transformers

        env.update(torch=torch.__version__, transformers=transformers.__version__,
                   torch_threads=torch.get_num_threads())
    return env


def plot(report, path):
    """Bar chart: tokens/s of forward and train step per model, with GFLOP/s on each bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    names = list(results)
    labels = [MODELS[name].label.replace(" ", "\n", 1) for name in names]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    for ax, workload in zip(axes, ("forward", "train")):
        values = [results[name][workload]["tokens_per_s"] for name in names]
        colors = ["#1f77b4" if MODELS[n].kind == "convbert" and MODELS[n].framework == "keras"
                  else "#2ca02c" if MODELS[n].kind == "groupbert"
                  else "#7f7f7f" if MODELS[n].framework == "keras" else "#d62728"
                  for n in names]
        bars = ax.bar(range(len(names)), values, color=colors)
        for bar, name in zip(bars, names):
            gflops = results[name][workload]["gflop_per_s"]
            ax.annotate(f"{gflops:.1f}\nGFLOP/s", (bar.get_x() + bar.get_width() / 2,
                                                  bar.get_height()),
                        ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(names)), labels, fontsize=7)
        ax.set_ylabel("tokens / s (higher is better)")
        ax.set_yscale("log")
        ax.set_title(f"{workload} ({'AdamW step, ' if workload == 'train' else ''}XLA, fp32)")
    settings = report["settings"]
    fig.suptitle(
        f"batch {settings['batch_size']} x seq {settings['seq_len']}, median of "
        f"{settings['repeats']}, {report['environment']['threads']} threads, "
        f"load avg {report['load_average']['start']} -> {report['load_average']['end']}"
        + (" (QUICK: tiny configs)" if settings["quick"] else ""),
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return parser.parse_args(argv)


def add_arguments(parser):
    """Adds this benchmark's options to `parser` (shared by the script and the CLI)."""
    parser.add_argument("--quick", action="store_true",
                        help="tiny configs, batch 2 x seq 32, 2 repeats: a smoke test")
    parser.add_argument("--models", default=None,
                        help=f"comma-separated subset of {','.join(MODELS)} (default: all; "
                             "hf_convbert_base only when torch and transformers are installed)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs of the main table (default 5; 2 with --quick)")
    parser.add_argument("--extra-repeats", type=int, default=None,
                        help="timed runs of the other sections (default 3; 2 with --quick)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls first")
    parser.add_argument("--batch-size", type=int, default=None, help="default 8 (2 quick)")
    parser.add_argument("--seq-len", type=int, default=None, help="default 128 (32 quick)")
    parser.add_argument("--memory-batch-size", type=int, default=None,
                        help="batch of the peak-RSS training step (default 32; 2 quick)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="TF intra-op threads = torch threads (default: all CPUs)")
    parser.add_argument("--no-xla", dest="xla", action="store_false",
                        help="main table without XLA (debugging; skips the xla section)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the sections of an existing --output JSON that this run "
                             "does not measure (to split a long run in two)")
    parser.add_argument("--output", default="bench/results/model_speed.json",
                        help="JSON output path")
    parser.add_argument("--plot", default=None,
                        help="PNG output path (default: the JSON path with .png; 'none': skip)")


def _defaults(args):
    quick = args.quick
    args.repeats = args.repeats or (2 if quick else 5)
    args.extra_repeats = args.extra_repeats or (2 if quick else 3)
    args.batch_size = args.batch_size or (2 if quick else 8)
    args.seq_len = args.seq_len or (32 if quick else 128)
    args.memory_batch_size = args.memory_batch_size or (2 if quick else 32)
    args.sections = [s for s in args.sections.split(",") if s]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"Unknown sections {sorted(unknown)}; choose from {SECTIONS}.")
    if args.models:
        models = [m for m in args.models.split(",") if m]
        unknown = set(models) - set(MODELS)
        if unknown:
            raise ValueError(f"Unknown models {sorted(unknown)}; choose from {list(MODELS)}.")
    else:
        models = [m for m in MODELS if MODELS[m].framework == "keras" or torch_available()]
    if not torch_available() and any(MODELS[m].framework == "torch" for m in models):
        raise ValueError("hf_convbert_base needs the bench extra: pip install transformers "
                         "torch==2.13.0")
    return models


def run(args):
    """Runs the requested sections and writes the JSON (and PNG); returns the report."""
    models = _defaults(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    threads = args.threads
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TF already initialised (e.g. inside a test session)
        threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    if torch_available():
        import torch

        torch.set_num_threads(threads)

    report = {
        "schema_version": SCHEMA_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
        "settings": {"quick": args.quick, "batch_size": args.batch_size,
                     "seq_len": args.seq_len, "repeats": args.repeats,
                     "extra_repeats": args.extra_repeats, "warmup": args.warmup,
                     "dtype": "float32", "xla": args.xla, "models": models,
                     "sections": args.sections},
        "environment": environment(threads),
        "load_average": {"start": load_average()},
        "flops_per_token": {}, "configs": {}, "results": {}, "ratios": {},
    }
    if "main" in args.sections:
        results, flops, configs, xla = run_main(models, args, threads)
        report.update(results=results, flops_per_token=flops, configs=configs)
        report["ratios"] = {"vs_bert_base": ratios(results, "bert_base"),
                            "vs_hf_convbert_base": ratios(results, "hf_convbert_base")}
        if xla:
            report["xla_on_vs_off"] = xla
        _write_json(report, args.output)  # a partial report survives a long run's later stop
    base = "convbert_base"
    if "seq512" in args.sections:
        seq, batch = (64, 1) if args.quick else (512, max(1, args.batch_size * args.seq_len // 512))
        variants = {f"{m}@{seq}": (m, "float32", "forward")
                    for m in ("convbert_base", "bert_base", "hf_convbert_base") if m in models}
        report["seq512"] = run_variants(variants, args, threads, batch, seq)
    if "bf16" in args.sections and base in models:
        variants = {"convbert_base fp32": (base, "float32", "forward"),
                    "convbert_base mixed_bfloat16": (base, "mixed_bfloat16", "forward")}
        report["bf16_vs_fp32"] = run_variants(variants, args, threads, args.batch_size,
                                              args.seq_len)
    if "memory" in args.sections:
        memory_models = [m for m in (base, "bert_base") if m in models]
        report["peak_rss_train_step"] = run_memory(memory_models, args, threads)
    if "split" in args.sections:
        from bench.speed.layer_split import layer_split

        _log("per-sublayer split")
        size = ({"hidden_dim": 64, "num_heads": 4, "intermediate_dim": 128} if args.quick
                else {})
        report["layer_split"] = layer_split(args.extra_repeats + 2, batch_size=args.batch_size,
                                            seq_len=args.seq_len, **size)
        _free()
    report["load_average"]["end"] = load_average()
    if args.merge and os.path.exists(args.output):
        report = _merge(args.output, report)
    report["targets"] = check_targets(report)
    _write_json(report, args.output)
    plot_path = args.plot or os.path.splitext(args.output)[0] + ".png"
    if plot_path != "none" and report["results"]:
        plot(report, plot_path)
    print_summary(report)
    return report


def _write_json(report, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as out:
        json.dump(report, out, indent=1, default=float)


def _merge(path, report):
    """`report` on top of the report at `path`: sections not measured now are kept."""
    with open(path) as existing:
        merged = json.load(existing)
    runs = merged.pop("runs", None) or [{key: merged.get(key) for key in RUN_KEYS}]
    runs.append({key: report.get(key) for key in RUN_KEYS})
    measured = {key: value for key, value in report.items()
                if key not in RUN_KEYS and value not in ({}, None)}
    merged.update(measured)
    merged["runs"] = runs  # settings, load averages and command of each partial run
    return merged


RUN_KEYS = ("created", "command", "settings", "load_average")


def print_summary(report):
    """A plain-text table of the main results and the targets."""
    results = report["results"]
    print(f"{'model':24s} {'fwd s':>8s} {'fwd tok/s':>10s} {'GF/s':>6s} {'train s':>8s} "
          f"{'train tok/s':>11s} {'GF/s':>6s} {'fwd/BERT':>8s} {'train/BERT':>10s}")
    vs_bert = report["ratios"].get("vs_bert_base", {})
    for name, r in results.items():
        ratio = vs_bert.get(name, {})
        print(f"{name:24s} {r['forward']['median_s']:8.3f} {r['forward']['tokens_per_s']:10.0f} "
              f"{r['forward']['gflop_per_s']:6.1f} {r['train']['median_s']:8.3f} "
              f"{r['train']['tokens_per_s']:11.0f} {r['train']['gflop_per_s']:6.1f} "
              f"{ratio.get('forward', float('nan')):8.3f} {ratio.get('train', float('nan')):10.3f}")
    for check in report["targets"]:
        print(f"{'MET ' if check['met'] else 'MISS'} {check['target']}: {check['value']:.3f}")


def main(argv=None):
    """Script entry point; returns the exit code."""
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
