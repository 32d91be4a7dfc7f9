"""Sentences/s of ConvBertTextClassifierPreprocessor in tf.data vs HF's Rust tokenizer.

    .venv/bin/python bench/tokenizer_throughput.py [--data-dir examples/data/sst2]

Ours: `tf.data` over the SST-2 sentences, `.batch(256).map(preprocessor)`,
fully consumed (sequence_length 128, fixed padding). Hugging Face: the Rust
`tokenizers.BertWordPieceTokenizer` (same vocab, same truncation/padding)
`encode_batch` on batches of 256 (uses all cores, like tf.data AUTOTUNE).
Writes bench/results/tokenizer_throughput.json.
"""

import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)


def read_sentences(data_dir):
    from convbert_tf.training.glue_data import get_task, read_tsv

    texts = []
    for name in ("train.tsv", "dev.tsv"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            texts += read_tsv(get_task("sst2"), path).features
    if not texts:
        raise SystemExit(f"No train.tsv/dev.tsv with a 'sentence' column in {data_dir}")
    return texts


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(REPO, "examples", "data", "sst2"))
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--max-sentences", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=os.path.join(HERE, "results", "tokenizer_throughput.json"))
    args = parser.parse_args()

    import tensorflow as tf

    from convbert_tf.preprocessing import (
        ConvBertTextClassifierPreprocessor,
        default_vocabulary_path,
    )

    texts = read_sentences(args.data_dir)[: args.max_sentences]
    n = len(texts)
    pre = ConvBertTextClassifierPreprocessor(sequence_length=args.sequence_length)
    ds = (tf.data.Dataset.from_tensor_slices(texts).batch(args.batch_size)
          .map(pre, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))

    def run_ours():
        for _ in ds:
            pass

    run_ours()  # warm-up: tracing and table construction
    ours_s = best_of(run_ours, args.repeats)
    results = {
        "sentences": n,
        "batch_size": args.batch_size,
        "sequence_length": args.sequence_length,
        "data_dir": os.path.relpath(args.data_dir, REPO),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "tensorflow": tf.__version__},
        "convbert_tf_tf_data": {"seconds": round(ours_s, 3), "sentences_per_s": round(n / ours_s)},
    }
    try:
        import tokenizers
    except ImportError:
        results["hf_tokenizers"] = "not installed"
    else:
        hf = tokenizers.BertWordPieceTokenizer(default_vocabulary_path(), lowercase=True)
        hf.enable_truncation(max_length=args.sequence_length)
        hf.enable_padding(length=args.sequence_length)
        batches = [texts[i:i + args.batch_size] for i in range(0, n, args.batch_size)]

        def run_hf():
            for b in batches:
                hf.encode_batch(b)

        run_hf()
        hf_s = best_of(run_hf, args.repeats)
        results["hf_tokenizers"] = {"version": tokenizers.__version__,
                                    "seconds": round(hf_s, 3),
                                    "sentences_per_s": round(n / hf_s)}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
