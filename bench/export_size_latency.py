"""File size, batch-1 latency and SST-2 dev accuracy of each export format.

SavedModel (text signature, XLA model part) vs TFLite float32 / float16 / dynamic int8 (text
models, tokenizer inside) and full int8 (ids model, calibrated on 200 training texts, host
tokenization). Latency is text -> logits for one sentence, median of `--runs` calls after
warmup, on this machine's CPU. Writes `bench/results/export_size_latency.json`.

Usage:
    python bench/export_size_latency.py                      # trains a quick small model
    python bench/export_size_latency.py --model-dir demo.keras  # a trained task instead
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
SST2 = os.path.join(REPO, "examples", "data", "sst2")


def read_tsv(name, limit=None):
    """`(texts, labels)` of the bundled SST-2 file `name`, read by the GLUE runner's reader."""
    from convbert_tf.training.glue_data import get_task
    from convbert_tf.training.glue_data import read_tsv as read_glue_tsv

    split = read_glue_tsv(get_task("sst2"), os.path.join(SST2, name), max_examples=limit)
    return split.features, split.labels


def quick_model(args):
    """A small ConvBERT (4 layers, D=128, E=64) fine-tuned on part of SST-2 from scratch."""
    import keras

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
    from convbert_tf.tasks import ConvBertTextClassifier

    keras.utils.set_random_seed(0)
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=4, num_heads=4, hidden_dim=128,
                                intermediate_dim=512, embedding_dim=64, max_sequence_length=128)
    task = ConvBertTextClassifier(
        backbone, 2, preprocessor=ConvBertTextClassifierPreprocessor(
            sequence_length=args.sequence_length))
    task.compile(optimizer=keras.optimizers.Adam(5e-4), jit_compile=False)
    texts, labels = read_tsv("train.tsv", args.train_examples)
    start = time.perf_counter()
    task.fit(texts, labels, batch_size=32, epochs=1, verbose=0)
    return task, {"train_examples": len(texts), "train_seconds": time.perf_counter() - start,
                  "config": "ConvBERT 4 layers, D=128, E=64, 4 heads (trained from scratch)"}


def dir_size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def latency_ms(fn, runs):
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def accuracy(predict, texts, labels, batch=64):
    preds = [np.argmax(predict(texts[i:i + batch]), -1) for i in range(0, len(texts), batch)]
    return float(np.mean(np.concatenate(preds) == labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="trained task (.keras file or task preset dir)")
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--train-examples", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results",
                                                         "export_size_latency.json"))
    args = parser.parse_args()

    from convbert_tf.cli.commands.export import load_task
    from convbert_tf.export import (
        SavedModelPredictor,
        TFLitePredictor,
        export_saved_model,
        export_tflite,
    )

    if args.model_dir:
        task, model_info = load_task(args.model_dir), {"model_dir": args.model_dir}
    else:
        task, model_info = quick_model(args)
    model_info["params"] = int(task.count_params())
    dev_texts, dev_labels = read_tsv("dev.tsv")
    one = ["a gorgeous, witty, seductive movie ."]
    keras_acc = accuracy(lambda t: task.predict(t, verbose=0), dev_texts, dev_labels)
    keras_logits = task.predict(dev_texts[:64], verbose=0)
    results = []
    work = tempfile.mkdtemp(prefix="export_bench_")

    for jit in (True, False):
        export_dir = export_saved_model(task, os.path.join(work, f"sm_{jit}"), jit_compile=jit,
                                        warmup_batch_sizes=())
        saved = SavedModelPredictor(export_dir)
        start = time.perf_counter()
        saved.predict(one)  # the first call compiles (XLA) / optimises the graph
        first_call_s = time.perf_counter() - start
        results.append({
            "format": f"saved_model ({'XLA' if jit else 'no XLA'})", "includes_tokenizer": True,
            "bytes": dir_size(export_dir), "first_call_seconds": first_call_s,
            "latency_ms_batch1": latency_ms(lambda saved=saved: saved.predict(one), args.runs),
            "latency_ms_batch32": latency_ms(lambda saved=saved: saved.predict(dev_texts[:32]),
                                             max(5, args.runs // 5)),
            "sst2_dev_accuracy": accuracy(lambda t, saved=saved: saved.predict(t)["logits"],
                                          dev_texts, dev_labels),
            "max_abs_logit_diff_vs_keras": float(np.abs(
                saved.predict(dev_texts[:64])["logits"] - keras_logits).max()),
        })
        print(json.dumps(results[-1]), flush=True)
    train_texts, _ = read_tsv("train.tsv", 200)
    for quantization, tokenizer in ((None, True), ("float16", True), ("dynamic_int8", True),
                                    ("int8", False)):
        path = os.path.join(work, f"{quantization or 'float32'}.tflite")
        start = time.perf_counter()
        export_tflite(task, path, quantization=quantization, include_tokenizer=tokenizer,
                      representative_texts=train_texts if quantization == "int8" else None)
        convert_s = time.perf_counter() - start
        lite = TFLitePredictor(path, num_threads=1)
        results.append({
            "format": f"tflite {quantization or 'float32'}", "includes_tokenizer": tokenizer,
            "bytes": os.path.getsize(path), "convert_seconds": convert_s,
            "latency_ms_batch1": latency_ms(lambda lite=lite: lite.predict(one), args.runs),
            "sst2_dev_accuracy": accuracy(lambda t, lite=lite: lite.predict(t)["logits"],
                                          dev_texts, dev_labels),
            "max_abs_logit_diff_vs_keras": float(np.abs(
                lite.predict(dev_texts[:64])["logits"] - keras_logits).max()),
        })
        print(json.dumps(results[-1]), flush=True)
    import tensorflow as tf

    report = {
        "model": model_info, "sequence_length": task.preprocessor.sequence_length,
        "keras_sst2_dev_accuracy": keras_acc, "dev_examples": len(dev_texts),
        "results": results,
        "notes": "Latency: one sentence, text -> logits, median of runs; TFLite with "
                 "num_threads=1 (the int8 ids model includes host tokenization in Python); "
                 "SavedModel via tf.saved_model.load in-process (TF intra-op threads default). "
                 "Shared 2-core CPU with other jobs running: compare ratios, not absolutes.",
        "environment": {"tensorflow": tf.__version__, "cpu_count": os.cpu_count(),
                        "load_average": os.getloadavg(), "platform": platform.platform()},
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
