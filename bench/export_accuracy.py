"""SST-2 dev label agreement of the low-precision exports with float32, on a trained model.

* SavedModel `precision="bfloat16"` (oneDNN, no XLA; and with XLA) against the float32
  SavedModel: label agreement, accuracy, max |logit diff|.
* TFLite dynamic int8 and full int8 (calibrated on `--calibration` training texts) against
  TFLite float32 (ids models, host tokenization): the same.

The model is the quick small ConvBERT of `bench/export_size_latency.py` (4 layers, D=128,
trained from scratch on part of SST-2) unless `--model-dir` names a trained task (e.g. the
demo's). Writes `bench/results/export_accuracy.json`.

Usage:
    python bench/export_accuracy.py
    python bench/export_accuracy.py --model-dir sst2_demo.keras
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.serving_common import cpu_info  # noqa: E402


def compare(name, logits, reference, labels):
    agree = float(np.mean(logits.argmax(-1) == reference.argmax(-1)))
    return {"variant": name, "label_agreement": agree,
            "accuracy": float(np.mean(logits.argmax(-1) == labels)),
            "max_abs_logit_diff": float(np.abs(logits - reference).max())}


def batched(fn, items, batch=64):
    return np.concatenate([fn(items[i:i + batch]) for i in range(0, len(items), batch)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", help="trained task (.keras file or task preset dir)")
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--train-examples", type=int, default=8000)
    parser.add_argument("--calibration", type=int, default=500)
    parser.add_argument("--skip-int8", action="store_true")
    parser.add_argument("--output", default=os.path.join(REPO, "bench", "results",
                                                         "export_accuracy.json"))
    args = parser.parse_args()

    import tensorflow as tf

    from bench.export_size_latency import quick_model, read_tsv
    from convbert_tf.cli.commands.export import load_task
    from convbert_tf.export import TFLitePredictor, export_saved_model, export_tflite

    start = time.perf_counter()
    if args.model_dir:
        task, model_info = load_task(args.model_dir), {"model_dir": args.model_dir}
    else:
        task, model_info = quick_model(args)
    texts, labels = read_tsv("dev.tsv")
    work = tempfile.mkdtemp(prefix="export_accuracy_")
    rows = []

    def saved_logits(**kwargs):
        export_dir = export_saved_model(task, os.path.join(work, str(len(os.listdir(work)))),
                                        warmup_batch_sizes=(), **kwargs)
        sig = tf.saved_model.load(export_dir).signatures["serving_default"]
        return batched(lambda t: sig(text=tf.constant(t))["logits"].numpy(), texts)

    fp32 = saved_logits(precision="float32")
    rows.append(compare("saved_model float32 (XLA)", fp32, fp32, labels))
    for jit in (False, True):
        name = f"saved_model bfloat16 ({'XLA' if jit else 'oneDNN, no XLA'})"
        rows.append(compare(name, saved_logits(precision="bfloat16", jit_compile=jit), fp32,
                            labels))
        print(json.dumps(rows[-1]), flush=True)

    train_texts, _ = read_tsv("train.tsv", args.calibration)
    lite = {}
    quantizations = [None, "dynamic_int8"] + ([] if args.skip_int8 else ["int8"])
    for quantization in quantizations:
        path = os.path.join(work, f"{quantization}.tflite")
        export_tflite(task, path, quantization=quantization,
                      representative_texts=train_texts if quantization == "int8" else None)
        predictor = TFLitePredictor(path)
        lite[quantization] = batched(lambda t, p=predictor: p.predict(list(t))["logits"], texts)
        rows.append(compare(f"tflite {quantization or 'float32'}", lite[quantization],
                            lite[None], labels))
        print(json.dumps(rows[-1]), flush=True)
    report = {"model": {**model_info, "params": int(task.count_params())},
              "dev_examples": len(texts), "sequence_length": args.sequence_length,
              "calibration_texts": args.calibration, "results": rows,
              "reference": "SavedModel rows agree with the float32 SavedModel, TFLite rows with "
                           "TFLite float32",
              "environment": {"tensorflow": tf.__version__, **cpu_info(),
                              "seconds": time.perf_counter() - start}}
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
