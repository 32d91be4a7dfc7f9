"""What a step of `bench/pretraining_efficiency.py` costs, model by model: the profile behind
that benchmark's wall time, and a check that runs made on different hosts compare.

Pretraining: each model's seconds per step, measured exactly as the benchmark calibrates its
step count (`seconds_per_pretraining_step`; the benchmark gives every model the same minutes,
so a faster host gives every model more steps, and a model added later with `--merge`
should be compared at this host's ratios). Fine-tuning: for each discriminator of the benchmark (same construction: `make_backbone`, a head on the
token mean, AdamW, XLA) it times training steps at the batch shapes the fine-tuning runs
(batch 32, 64 and 128; length-grouped batches cut to 16-token buckets) and reports
milliseconds per step, tokens per second and the achieved GFLOP/s (training FLOPs = 3x the
forward count of `bench/speed/flops.py`). It also times a one-example step with the
benchmark's 30,522-row vocabulary against an 8,000-row one: a step's fixed cost that does
not shrink with the batch (the embedding table's dense gradient and its AdamW update).
Writes `bench/results/pretraining_efficiency_profile.json`.

    python bench/pretraining_efficiency_profile.py            # ~8 minutes on 2 cores
    python bench/pretraining_efficiency_profile.py --quick    # smoke test: eager, tiny
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # bench.speed
sys.path.insert(0, HERE)  # pretraining_efficiency, serving_common

# (batch, tokens) of the benchmark's fine-tuning: SST-2 1k/5k and RTE at batch 32, CoLA at 64,
# SST-2 with all labels at 128; SST-2 and CoLA batches mostly cut to 16 or 32 tokens, RTE's to
# 64.
SHAPES = ((32, 16), (32, 64), (64, 16), (128, 16), (128, 32))


def classifier(kind, vocabulary_size, sequence_length, jit_compile):
    """The fine-tuning model of `pretraining_efficiency.FineTuner`, compiled alike."""
    import keras
    from pretraining_efficiency import build_classifier

    model, backbone, _ = build_classifier(kind, vocabulary_size, sequence_length, "mean", 0)
    model.compile(keras.optimizers.AdamW(1e-3, weight_decay=0.01, epsilon=1e-6),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile, run_eagerly=not jit_compile)
    return model, backbone


def step_seconds(model, batch, length, vocabulary_size, steps, repeats):
    """Median seconds of one training step at `[batch, length]` (compiled first, untimed)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(1000, min(vocabulary_size, 8000), (batch, length),
                                   dtype="int32"),
         "segment_ids": np.zeros((batch, length), "int32"),
         "padding_mask": np.ones((batch, length), "int32")}
    y = rng.integers(0, 2, (batch,), dtype="int32")
    model.train_on_batch(x, y)  # XLA compiles this shape
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        times.append((time.perf_counter() - began) / steps)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="convbert,bert,groupbert")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=3, help="timed blocks (median)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: one model, eager, two tiny shapes, one block")
    parser.add_argument("--output", default=os.path.join(HERE, "results",
                                                         "pretraining_efficiency_profile.json"))
    args = parser.parse_args()
    shapes, jit = SHAPES, True
    if args.quick:
        args.models, args.steps, args.repeats, jit = "convbert", 1, 1, False
        shapes = ((2, 8),)

    import tempfile

    import pretraining_efficiency as benchmark
    from serving_common import commit_stamp, cpu_info

    from bench.speed.flops import model_flops_per_token
    from convbert_tf.preprocessing import ConvBertTokenizer

    vocabulary_size, sequence_length = 30522, 64  # the benchmark's
    info = cpu_info()
    results = {"machine": {"cpu": info["cpu_model"], "flags": info["cpu_flags"],
                           "cores": os.cpu_count()},
               "commit": commit_stamp(), "args": vars(args), "pretraining_seconds_per_step": {},
               "models": {}}
    # The benchmark's own defaults (its --quick ones with --quick), its corpus and tokenizer.
    bench_args = benchmark.build_parser().parse_args(["--quick"] if args.quick else [])
    if args.quick:
        bench_args.pretrain_batch_size, bench_args.sequence_length = 8, 32
        bench_args.calibration_steps = 1
    tokenizer = ConvBertTokenizer()
    with tempfile.TemporaryDirectory() as workdir:
        corpus = os.path.join(workdir, "corpus.txt")
        benchmark.build_corpus(corpus)
        for kind in args.models.split(","):
            seconds = benchmark.seconds_per_pretraining_step(kind, corpus, workdir, tokenizer,
                                                             bench_args)
            results["pretraining_seconds_per_step"][kind] = round(seconds, 4)
            print(f"[{kind}] pretraining {seconds:.3f} s/step", flush=True)
    for kind in args.models.split(","):
        model, backbone = classifier(kind, vocabulary_size, sequence_length, jit)
        config = backbone.get_config()
        rows = results["models"][kind] = {}
        for batch, length in shapes:
            seconds = step_seconds(model, batch, length, vocabulary_size, args.steps,
                                   args.repeats)
            flops = 3 * model_flops_per_token(kind, config, length) * batch * length
            rows[f"{batch}x{length}"] = {
                "ms": round(1000 * seconds, 2),
                "tokens_per_s": round(batch * length / seconds),
                "gflop_per_s": round(flops / seconds / 1e9, 1),
                "train_gflop": round(flops / 1e9, 3)}
            print(f"[{kind}] {batch}x{length}: {rows[f'{batch}x{length}']}", flush=True)
    # The fixed cost: one example, full vocabulary against a small one (same model otherwise).
    fixed = results["fixed_cost_ms"] = {}
    for vocabulary in (vocabulary_size, 8000):
        model, _ = classifier("convbert", vocabulary, sequence_length, jit)
        fixed[f"convbert_1x16_vocabulary_{vocabulary}"] = round(1000 * step_seconds(
            model, 1, 16, vocabulary, args.steps, args.repeats), 2)
    print(f"fixed cost: {fixed}", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(args.output + ".tmp", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
