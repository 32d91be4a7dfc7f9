"""Pretrain a small ConvBERT with ELECTRA RTD, then fine-tune it on SST-2 against from-scratch.

Pretraining reads the SST-2 train sentences without labels, reduced to full sentences (90% of
the file's lines are sub-phrases of other lines), with the `small_budget` recipe of
`convbert_tf.training.pretraining.pretrain` (checkpointed: rerun to resume). Both classifiers
then get the same fine-tuning budget on 1,000 labelled sentences (steps, batch, learning rate,
data order, classifier head: `--pooling`); the only difference is the discriminator's
initial weights.

    python examples/pretrain_then_finetune.py --output bench/results/pretrain_vs_scratch.json
"""

import argparse
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))


def read_sst2(path):
    """`(sentences, labels)` of an SST-2 TSV, through the library's one GLUE reader."""
    from convbert_tf.training.glue_data import get_task, read_tsv

    split = read_tsv(get_task("sst2"), path)
    return [str(s).strip() for s in split.texts[0]], [int(label) for label in split.labels]


def small_config(vocabulary_size, sequence_length):
    return dict(vocabulary_size=vocabulary_size, num_layers=2, num_heads=4, hidden_dim=128,
                intermediate_dim=512, embedding_dim=128, conv_kernel_size=9,
                max_sequence_length=sequence_length)


def finetune(backbone, preprocessor, train, dev, examples, epochs, batch_size, learning_rate,
             seed, pooling):
    import keras

    from convbert_tf.optimizers import fine_tuning_optimizer
    from convbert_tf.tasks.text_classifier import ConvBertTextClassifier

    keras.utils.set_random_seed(seed)
    classifier = ConvBertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor,
                                        pooling=pooling)
    steps = epochs * -(-examples // batch_size)
    classifier.compile(optimizer=fine_tuning_optimizer(classifier, learning_rate, steps))
    classifier.fit(train[0][:examples], train[1][:examples], batch_size=batch_size,
                   epochs=epochs, verbose=0)
    return float(classifier.evaluate(dev[0], dev[1], batch_size=128, verbose=0,
                                     return_dict=True)["accuracy"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.path.join(HERE, "data", "sst2"),
                        help="folder with SST-2 train.tsv and dev.tsv")
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--pretrain-steps", type=int, default=600)
    parser.add_argument("--pretrain-batch-size", type=int, default=64)
    parser.add_argument("--finetune-examples", type=int, default=1000)
    parser.add_argument("--finetune-epochs", type=int, default=10)
    parser.add_argument("--finetune-batch-size", type=int, default=32)
    parser.add_argument("--pooling", default="mean", choices=("first_token", "mean"),
                        help="the classifier's sentence vector: mean (a briefly pretrained "
                             "discriminator's first token carries no signal) or first_token "
                             "(ConvBERT's official head)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    import keras

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.preprocessing import (
        ConvBertTextClassifierPreprocessor,
        ConvBertTokenizer,
    )
    from convbert_tf.training.pretraining import pretrain
    from convbert_tf.training.pretraining_data import full_sentences

    train = read_sst2(os.path.join(args.data_dir, "train.tsv"))
    dev = read_sst2(os.path.join(args.data_dir, "dev.tsv"))
    tokenizer = ConvBertTokenizer()
    config = small_config(tokenizer.vocabulary_size(), args.sequence_length)
    results = {"config": config, "args": vars(args)}

    # 1. Pretrain on the training sentences (no labels) streamed from a text file.
    import numpy as np

    order = np.random.default_rng(args.seed).permutation(len(train[0]))
    train = ([train[0][i] for i in order], [train[1][i] for i in order])
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "sst2_sentences.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.writelines(s + "\n" for s in full_sentences(train[0]))
        keras.utils.set_random_seed(args.seed)
        discriminator = ConvBertBackbone(**config)
        _, history = pretrain(discriminator, corpus, os.path.join(tmp, "run"), tokenizer,
                              steps=args.pretrain_steps,
                              checkpoint_every=args.pretrain_steps // 4,
                              sequence_length=args.sequence_length, seed=args.seed,
                              batch_size=args.pretrain_batch_size)
    results["pretraining"] = history
    results["pretraining_seconds"] = round(time.time() - start, 1)
    weights = discriminator.get_weights()

    # 2. Fine-tune the pretrained discriminator and a fresh one with the same budget.
    preprocessor = ConvBertTextClassifierPreprocessor(tokenizer, args.sequence_length)
    accuracies = {}
    for name in ("pretrained", "from_scratch"):
        start = time.time()
        keras.utils.set_random_seed(args.seed)
        backbone = ConvBertBackbone(**config)
        if name == "pretrained":
            backbone.set_weights(weights)
        accuracies[name] = finetune(backbone, preprocessor, train, dev, args.finetune_examples,
                                    args.finetune_epochs, args.finetune_batch_size, 1e-3,
                                    args.seed, args.pooling)
        results[f"{name}_seconds"] = round(time.time() - start, 1)
        print(f"SST-2 dev accuracy, {name}: {accuracies[name]:.4f}", flush=True)
    results["sst2_dev_accuracy"] = accuracies
    delta = accuracies["pretrained"] - accuracies["from_scratch"]
    verdict = "helped" if delta > 0.01 else ("hurt" if delta < -0.01 else "made no clear difference")
    print(f"Pretraining {verdict}: {accuracies['pretrained']:.4f} vs "
          f"{accuracies['from_scratch']:.4f} from scratch ({delta:+.4f}).")
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
