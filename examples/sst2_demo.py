"""`make demo`: fine-tune a ConvBERT on SST-2 on a CPU, evaluate, export, predict.

From scratch by default (no pretrained weights can be downloaded here), a small ConvBERT
(2 layers, D=128, E=128, 4 heads -> 2 attention + 2 span-conv heads, FFN 512, ~4.3M parameters
of which 3.9M are the word-piece table) on all 67,349 SST-2 training sentences, padded to 64
word pieces (every dev sentence fits: the longest is 55), trained with the recipe's AdamW
(linear warmup over 10% of the steps then linear decay, weight decay 0.01) under XLA. Pass
`--checkpoint DIR` (a Hugging Face ConvBERT directory or a preset directory) to fine-tune
released weights instead, with layer-wise learning-rate decay 0.8 as in the paper.

Then: accuracy on the 872 dev sentences, a SavedModel (raw text in, logits out, tokenisation
inside the graph) and a TFLite model (ids in, builtins only) in `saved_models/`, predictions for
a few sentences through both, accuracy and wall time.

Usage:
    python examples/sst2_demo.py [--epochs 1] [--checkpoint DIR] [--max-train-examples N]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)  # run from a checkout without installing

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convbert_tf.models import ConvBertBackbone  # noqa: E402
from convbert_tf.tasks import ConvBertTextClassifier  # noqa: E402
from convbert_tf.training import fine_tuning_optimizer  # noqa: E402
from convbert_tf.training.glue import load_backbone, make_preprocessor  # noqa: E402
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
    parser.add_argument("--checkpoint", help="HF ConvBERT dir or preset dir to start from")
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
    return parser.parse_args(argv)


def build_classifier(args):
    """The classifier: from scratch (small ConvBERT) or on `--checkpoint`'s backbone."""
    if args.checkpoint:
        backbone = load_backbone(args.checkpoint)
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


def export_with_library(classifier, directory, sequence_length):
    """Uses `convbert_tf.export` when it exists; returns None when it does not."""
    try:
        from convbert_tf.export import export_saved_model, export_tflite
    except ImportError:
        return None
    saved_model = os.path.join(directory, "sst2_convbert")
    tflite = os.path.join(directory, "sst2_convbert.tflite")
    export_saved_model(classifier, saved_model, sequence_length=sequence_length)
    export_tflite(classifier, tflite, sequence_length=sequence_length)
    return saved_model, tflite


# --- Minimal export, used only until `convbert_tf.export` lands ----------------------------
def export_minimal(classifier, directory, sequence_length):
    """SavedModel (strings -> logits, tokeniser in the graph) and a builtins-only TFLite model
    (`token_ids`/`segment_ids`/`padding_mask` [1, sequence_length] -> logits)."""
    os.makedirs(directory, exist_ok=True)
    saved_model = os.path.join(directory, "sst2_convbert")
    preprocessor = classifier.preprocessor

    archive = keras.export.ExportArchive()
    if not preprocessor.built:
        preprocessor(["build me"])
    archive.track(classifier)
    archive.track(preprocessor)  # its vocabulary tables become SavedModel assets

    def serve(text):
        return {"logits": classifier(preprocessor(text), training=False)}

    archive.add_endpoint(
        "serve", serve, input_signature=[tf.TensorSpec([None], tf.string, name="text")]
    )
    archive.write_out(saved_model, verbose=False)

    # TFLite: the ids model goes through its own SavedModel, which freezes the weights into
    # constants (a converted concrete function would keep them as uninitialised variables).
    ids_dir = os.path.join(directory, "sst2_convbert_ids")
    ids_archive = keras.export.ExportArchive()
    ids_archive.track(classifier)
    ids_archive.add_endpoint(
        "serve",
        lambda inputs: {"logits": classifier(inputs, training=False)},
        input_signature=[{name: tf.TensorSpec([1, sequence_length], tf.int32, name=name)
                          for name in ("token_ids", "segment_ids", "padding_mask")}],
    )
    ids_archive.write_out(ids_dir, verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(ids_dir, signature_keys=["serve"])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    tflite = os.path.join(directory, "sst2_convbert.tflite")
    with open(tflite, "wb") as handle:
        handle.write(converter.convert())
    return saved_model, tflite


def predict_saved_model(path, texts):
    serve = tf.saved_model.load(path).signatures["serve"]
    return serve(text=tf.constant(texts))["logits"].numpy()


def predict_tflite(path, preprocessor, texts):
    interpreter = tf.lite.Interpreter(model_path=path)
    runner = interpreter.get_signature_runner()
    logits = []
    for text in texts:
        features = {k: v.numpy()[None] for k, v in preprocessor(text).items()}
        logits.append(next(iter(runner(**features).values()))[0])
    return np.stack(logits)


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
    classifier.fit(train_ds, epochs=args.epochs, verbose=1)
    train_time = time.time() - start

    eval_batch = largest_divisor(len(dev), 256)
    results = classifier.evaluate(dev.features, dev.labels, batch_size=eval_batch,
                                  return_dict=True, verbose=0)
    print(f"SST-2 dev: accuracy {results['accuracy']:.4f}, loss {results['loss']:.4f}")

    exported = export_with_library(classifier, args.output_dir, args.sequence_length)
    if exported is None:
        print("convbert_tf.export not available: using the demo's minimal export")
        exported = export_minimal(classifier, args.output_dir, args.sequence_length)
    saved_model, tflite = exported
    print(f"exported {saved_model} and {tflite}")

    saved_logits = predict_saved_model(saved_model, EXAMPLES)
    tflite_logits = predict_tflite(tflite, classifier.preprocessor, EXAMPLES)
    print(f"\n{'SavedModel':>10} {'TFLite':>7}  sentence")
    for text, a, b in zip(EXAMPLES, saved_logits, tflite_logits):
        label = lambda logits: "pos" if logits[1] > logits[0] else "neg"  # noqa: E731
        print(f"{label(a):>10} {label(b):>7}  {text}")
    print(f"max |SavedModel - TFLite| logit difference: {np.abs(saved_logits - tflite_logits).max():.2e}")

    print(f"\nSST-2 dev accuracy: {results['accuracy']:.4f}")
    print(f"wall time: {time.time() - start:.0f} s (training {train_time:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
