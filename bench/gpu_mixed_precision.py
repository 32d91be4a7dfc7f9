"""fp32 vs mixed precision (float16 and bfloat16) forward and training step, XLA, on the
default device (a GPU when there is one): ConvBERT-base and keras-hub BERT-base.

Round-robin over (model, policy) per repeat, median ms. Run by `bench/gpu.sh`; runs on CPU too
(`--quick` is the smoke test). Writes `bench/results/gpu_mixed_precision.json`.
"""

import argparse
import json
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def build(name, policy, quick):
    import keras
    import keras_hub

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.models.presets import CONVBERT_PRESETS

    config = dict(CONVBERT_PRESETS["conv_bert_base_en"]["config"])
    if quick:
        config.update(num_layers=1, hidden_dim=64, intermediate_dim=128, embedding_dim=64,
                      num_heads=2)
    keras.utils.set_random_seed(0)
    if name == "conv_bert_base":
        return ConvBertBackbone(**config, dtype=policy)
    return keras_hub.models.BertBackbone(
        vocabulary_size=config["vocabulary_size"], num_layers=config["num_layers"],
        num_heads=config["num_heads"], hidden_dim=config["hidden_dim"],
        intermediate_dim=config["intermediate_dim"],
        max_sequence_length=config["max_sequence_length"], dtype=policy)


def workloads(backbone, batch, seq):
    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = {"token_ids": tf.constant(rng.integers(1, 30522, (batch, seq)), tf.int32),
         "segment_ids": tf.zeros((batch, seq), tf.int32),
         "padding_mask": tf.ones((batch, seq), tf.int32)}
    head = keras.layers.Dense(2, dtype="float32")
    head.build((None, backbone.hidden_dim))
    optimizer = keras.optimizers.AdamW(1e-4)
    if backbone.dtype_policy.name == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    weights = backbone.trainable_variables + head.trainable_variables
    optimizer.build(weights)
    y = tf.zeros((batch,), tf.int32)

    @tf.function(jit_compile=True)
    def forward(x):
        return backbone(x, training=False)["sequence_output"]

    @tf.function(jit_compile=True)
    def train(x, y):
        with tf.GradientTape() as tape:
            logits = head(tf.cast(backbone(x, training=True)["sequence_output"][:, 0],
                                  "float32"))
            loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
                y, logits, from_logits=True))
            scaled = optimizer.scale_loss(loss)
        optimizer.apply(tape.gradient(scaled, weights), weights)
        return loss

    return {"forward": lambda: forward(x).numpy(), "train": lambda: train(x, y).numpy()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results",
                                                         "gpu_mixed_precision.json"))
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.batch_size, args.seq_len = 2, 2, 16
    import tensorflow as tf

    from bench.serving_common import cpu_info

    fns = {}
    for name in ("conv_bert_base", "bert_base"):
        for policy in POLICIES:
            for kind, fn in workloads(build(name, policy, args.quick), args.batch_size,
                                      args.seq_len).items():
                fn()  # compile
                fns[(name, policy, kind)] = fn
    times = {k: [] for k in fns}
    for _ in range(args.repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append((time.perf_counter() - t) * 1000)
    rows = {}
    for (name, policy, kind), t in times.items():
        rows.setdefault(name, {}).setdefault(kind, {})[policy] = statistics.median(t)
    for name in rows:
        for kind in rows[name]:
            fp32 = rows[name][kind]["float32"]
            rows[name][kind]["speedup_vs_float32"] = {
                p: fp32 / rows[name][kind][p] for p in POLICIES[1:]}
    report = {"median_ms": rows, "batch_size": args.batch_size, "seq_len": args.seq_len,
              "repeats": args.repeats, "xla": True,
              "devices": [d.name for d in tf.config.list_physical_devices()],
              "gpu": [tf.config.experimental.get_device_details(d).get("device_name", d.name)
                      for d in tf.config.list_physical_devices("GPU")],
              "environment": {"tensorflow": tf.__version__, **cpu_info()}}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
