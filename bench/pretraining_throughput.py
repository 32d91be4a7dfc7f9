"""ELECTRA pretraining throughput (tokens/s) of conv_bert_small_en + its generator under XLA.

Batch 8 x sequence 128 (the brief's setting; the released recipe uses batch 128), random
weights and synthetic masked batches (the model cost does not depend on the ids). Times
`--steps` train steps after `--warmup` steps (compilation) and writes
`bench/results/pretraining_throughput.json`.

    python bench/pretraining_throughput.py [--steps 10] [--batch-size 8] [--no-xla]
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="conv_bert_small_en")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--no-xla", action="store_true")
    parser.add_argument("--output", default=os.path.join(HERE, "results",
                                                         "pretraining_throughput.json"))
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.tasks.electra_pretrainer import (
        ConvBertElectraPretrainer,
        pretraining_optimizer,
    )

    keras.utils.set_random_seed(0)
    discriminator = ConvBertBackbone.from_preset(args.preset, load_weights=False)
    pretrainer = ConvBertElectraPretrainer(discriminator, seed=0)
    pretrainer.compile(optimizer=pretraining_optimizer(5e-4), jit_compile=not args.no_xla)
    B, L = args.batch_size, args.sequence_length
    M = int(np.ceil(0.15 * L))
    rng = np.random.default_rng(0)
    token_ids = rng.integers(1000, discriminator.vocabulary_size, (B, L)).astype("int32")
    token_ids[:, 0] = 101
    positions = np.sort(np.stack([rng.choice(np.arange(1, L), M, replace=False)
                                  for _ in range(B)]), axis=1).astype("int32")
    y = np.take_along_axis(token_ids, positions, axis=1)
    np.put_along_axis(token_ids, positions, 103, axis=1)
    x = {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids),
         "padding_mask": np.ones_like(token_ids), "mask_positions": positions}
    batch = tf.data.Dataset.from_tensors((x, y, np.ones((B, M), "float32"))).repeat()
    start = time.time()
    pretrainer.fit(batch, steps_per_epoch=args.warmup, epochs=1, verbose=0)
    compile_seconds = time.time() - start
    start = time.time()
    pretrainer.fit(batch, steps_per_epoch=args.steps, epochs=1, verbose=0)
    seconds = time.time() - start
    result = {
        "preset": args.preset,
        "generator_hidden_dim": pretrainer.generator.hidden_dim,
        "batch_size": B, "sequence_length": L, "steps": args.steps,
        "xla": not args.no_xla,
        "tokens_per_second": round(B * L * args.steps / seconds, 1),
        "seconds_per_step": round(seconds / args.steps, 4),
        "first_steps_seconds_incl_compile": round(compile_seconds, 1),
        "params_total": int(pretrainer.count_params()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, TF {tf.__version__} (CPU)",
        "note": "shared machine: other jobs ran concurrently, so this is a lower bound.",
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
