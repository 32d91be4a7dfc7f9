"""`make demo`: fine-tune a ConvBERT on SST-2 on a CPU, evaluate, export, predict.

From scratch by default (no pretrained weights can be downloaded here), a small ConvBERT
(2 layers, D=128, E=128, 4 heads -> 2 attention + 2 span-conv heads, FFN 512, ~4.3M parameters
of which 3.9M are the word-piece table) on all 67,349 SST-2 training sentences, padded to 64
word pieces (every dev sentence fits: the longest is 55), trained with the recipe's AdamW
(linear warmup over 10% of the steps then linear decay, weight decay 0.01) under XLA. Pass
`--checkpoint SRC` (anything `convbert_tf.load_backbone` accepts) to fine-tune
released weights instead, with layer-wise learning-rate decay 0.8 as in the paper.

Then: accuracy on the 872 dev sentences, a SavedModel (raw text in, logits out, tokenisation
inside the graph) and a TFLite model (ids in, builtins only) in `saved_models/`, predictions for
a few sentences through both, accuracy and wall time. Every number the README quotes from the
demo is written to `bench/results/demo.json` (`--results`), which `tests/test_readme.py` checks
the README against.

Usage:
    python examples/sst2_demo.py [--epochs 1] [--checkpoint DIR] [--max-train-examples N]
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)  # run from a checkout without installing

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convbert_tf.models import ConvBertBackbone, load_backbone  # noqa: E402
from convbert_tf.tasks import ConvBertTextClassifier  # noqa: E402
from convbert_tf.training import fine_tuning_optimizer  # noqa: E402
from convbert_tf.training.glue import make_preprocessor  # noqa: E402
from convbert_tf.training.glue_data import load_glue  # noqa: E402

EXAMPLES = [
    "a gorgeous , witty , seductive movie .",
    "the plot is nothing but boilerplate clichés from start to finish .",
    "an enthralling , entertaining feature .",
    "it 's a bad sign when you 're rooting for the film to end .",
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.path.join(REPO_ROOT, "examples", "data"))
    parser.add_argument("--checkpoint", help="what to start from: anything "
                        "convbert_tf.load_backbone accepts (HF / TF1 checkpoint, preset dir, "
                        "hf:// handle)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="peak rate (default 1e-3 from scratch, 1e-4 from a checkpoint)")
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--max-train-examples", type=int, default=None)
    parser.add_argument("--output-dir", default=os.path.join(REPO_ROOT, "saved_models"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--results", default=os.path.join(REPO_ROOT, "bench", "results",
                                                          "demo.json"),
                        help="where to write the measured numbers ('' to skip)")
    return parser.parse_args(argv)


def write_results(path, args, classifier, train, dev, results, train_time, wall_time,
                  max_logit_diff):
    """The demo's numbers, for the README (see bench/README.md, "Numbers in the docs")."""
    record = {
        "command": "python examples/sst2_demo.py " + " ".join(sys.argv[1:]),
        "settings": {key: value for key, value in vars(args).items()
                     if key not in ("data_dir", "output_dir", "results")},
        "backbone_parameters": int(classifier.backbone.count_params()),
        "train_sentences": len(train),
        "dev_sentences": len(dev),
        "dev_accuracy": float(results["accuracy"]),
        "dev_loss": float(results["loss"]),
        "train_seconds": round(train_time, 1),
        "wall_seconds": round(wall_time, 1),
        "max_abs_logit_diff_saved_model_vs_tflite": float(max_logit_diff),
        "environment": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                        "tensorflow": tf.__version__, "keras": keras.__version__,
                        "load_average": list(os.getloadavg())},
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(record, handle, indent=1)
    print(f"results written to {path}")


def build_classifier(args):
    """The classifier: from scratch (small ConvBERT) or on `--checkpoint`'s backbone."""
    if args.checkpoint:
        backbone = load_backbone(args.checkpoint, argument="--checkpoint")
    else:
        backbone = ConvBertBackbone(
            vocabulary_size=30522, num_layers=args.num_layers, num_heads=4,
            hidden_dim=args.hidden_dim, intermediate_dim=4 * args.hidden_dim,
            embedding_dim=128, max_sequence_length=args.sequence_length,
        )
    preprocessor = make_preprocessor(args.checkpoint, args.sequence_length)
    return ConvBertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)


def largest_divisor(n, at_most):
    """The largest batch size <= at_most that divides n: one static shape, one XLA compile."""
    return max(d for d in range(1, at_most + 1) if n % d == 0)


def export_and_predict(classifier, output_dir, texts):
    """SavedModel (text in, tokenised in the graph) and TFLite (ids in, builtins only) through
    `convbert_tf.export`; returns the logits both give for `texts`."""
    from convbert_tf.export import (
        SavedModelPredictor,
        TFLitePredictor,
        export_saved_model,
        export_tflite,
    )

    version_dir = export_saved_model(classifier, os.path.join(output_dir, "sst2_convbert"))
    tflite = os.path.join(output_dir, "sst2_convbert.tflite")
    ops = export_tflite(classifier, tflite, overwrite=True)
    print(f"exported {version_dir} and {tflite} (TFLite ops: {', '.join(ops)})")
    saved_logits = SavedModelPredictor(version_dir).predict(texts)["logits"]
    tflite_predictor = TFLitePredictor(tflite, preprocessor=classifier.preprocessor)
    return saved_logits, tflite_predictor.predict(texts)["logits"]


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    keras.utils.set_random_seed(args.seed)
    _, train, dev = load_glue("sst2", data_dir=args.data_dir,
                              max_train_examples=args.max_train_examples)
    print(f"SST-2: {len(train):,} train / {len(dev):,} dev sentences ({train.source})")

    classifier = build_classifier(args)
    print(f"model: {classifier.backbone.count_params():,} backbone parameters, "
          f"sequence length {args.sequence_length}, batch {args.batch_size}")

    steps_per_epoch = len(train) // args.batch_size
    learning_rate = args.learning_rate or (1e-4 if args.checkpoint else 1e-3)
    classifier.compile(
        optimizer=fine_tuning_optimizer(
            classifier, learning_rate, num_train_steps=args.epochs * steps_per_epoch,
            # Layer-wise decay transfers pretrained knowledge; from scratch it would only
            # slow the embeddings down.
            layerwise_decay=0.8 if args.checkpoint else 1.0,
        ),
    )
    train_ds = (
        tf.data.Dataset.from_tensor_slices((train.features, train.labels))
        .shuffle(len(train), seed=args.seed, reshuffle_each_iteration=True)
        # Full batches only: one static shape, so XLA compiles the step once.
        .batch(args.batch_size, drop_remainder=True)
    )
    classifier.fit(train_ds, epochs=args.epochs, verbose=1, shuffle=False)  # ds shuffles
    train_time = time.time() - start

    eval_batch = largest_divisor(len(dev), 256)
    results = classifier.evaluate(dev.features, dev.labels, batch_size=eval_batch,
                                  return_dict=True, verbose=0)
    print(f"SST-2 dev: accuracy {results['accuracy']:.4f}, loss {results['loss']:.4f}")

    saved_logits, tflite_logits = export_and_predict(classifier, args.output_dir, EXAMPLES)
    print(f"\n{'SavedModel':>10} {'TFLite':>7}  sentence")
    for text, a, b in zip(EXAMPLES, saved_logits, tflite_logits):
        label = lambda logits: "pos" if logits[1] > logits[0] else "neg"  # noqa: E731
        print(f"{label(a):>10} {label(b):>7}  {text}")
    max_logit_diff = np.abs(saved_logits - tflite_logits).max()
    print(f"max |SavedModel - TFLite| logit difference: {max_logit_diff:.2e}")

    wall_time = time.time() - start
    print(f"\nSST-2 dev accuracy: {results['accuracy']:.4f}")
    print(f"wall time: {wall_time:.0f} s (training {train_time:.0f} s)")
    if args.results:
        write_results(args.results, args, classifier, train, dev, results, train_time,
                      wall_time, max_logit_diff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
