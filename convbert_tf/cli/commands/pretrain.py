"""`convbert-tf pretrain`: ELECTRA replaced-token-detection pretraining on plain-text files."""


def register(subparsers):
    parser = subparsers.add_parser(
        "pretrain",
        help="Pretrain a ConvBERT discriminator with ELECTRA replaced-token detection.",
        description="Streams one-sentence-per-line text files, packs them into fixed-length "
        "sequences, masks 15%% and trains generator + discriminator under XLA. Checkpoints "
        "every epoch (resumable), logs to TensorBoard, and writes the discriminator as a "
        "preset to OUTPUT_DIR/discriminator_preset.",
    )
    parser.add_argument("--corpus", required=True,
                        help="a text file, a glob, or a directory of *.txt files")
    parser.add_argument("--preset", required=True,
                        help="architecture preset (e.g. conv_bert_small_en) or preset directory")
    parser.add_argument("--vocab", default=None, help="WordPiece vocabulary file (default: "
                        "the packaged uncased BERT vocabulary)")
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=1000, help="total optimizer steps")
    parser.add_argument("--steps-per-epoch", type=int, default=None,
                        help="steps between checkpoints (default: min(steps, 1000))")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--warmup-steps", type=int, default=10_000)
    parser.add_argument("--output-dir", default="convbert_pretraining")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-xla", action="store_true", help="disable XLA (debugging)")
    parser.set_defaults(func=run)


def run(args):
    import importlib.util
    import os

    import keras

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.preprocessing import ConvBertTokenizer
    from convbert_tf.tasks.electra_pretrainer import (
        ConvBertElectraPretrainer,
        pretraining_optimizer,
    )
    from convbert_tf.training.pretraining_data import pretraining_dataset

    for name in ("sequence_length", "batch_size", "steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be positive.")
    keras.utils.set_random_seed(args.seed)
    tokenizer = ConvBertTokenizer(vocabulary=args.vocab)
    # Fails early and clearly on a missing / empty corpus, before any model is built.
    dataset = pretraining_dataset(args.corpus, tokenizer, args.sequence_length, args.batch_size,
                                  seed=args.seed)
    overrides = {"vocabulary_size": tokenizer.vocabulary_size()}
    if args.preset in ConvBertBackbone.presets:
        discriminator = ConvBertBackbone.from_preset(args.preset, load_weights=False, **overrides)
    else:
        discriminator = ConvBertBackbone.from_preset(args.preset)
        if discriminator.vocabulary_size != tokenizer.vocabulary_size():
            raise ValueError(f"The preset's vocabulary ({discriminator.vocabulary_size}) and "
                             f"--vocab ({tokenizer.vocabulary_size()}) differ.")
    if args.sequence_length > discriminator.max_sequence_length:
        raise ValueError(f"--sequence-length {args.sequence_length} exceeds the model's "
                         f"{discriminator.max_sequence_length} positions.")
    pretrainer = ConvBertElectraPretrainer(discriminator, seed=args.seed)
    pretrainer.compile(
        optimizer=pretraining_optimizer(args.learning_rate, args.steps, args.warmup_steps),
        jit_compile=not args.no_xla,
    )
    steps_per_epoch = args.steps_per_epoch or min(args.steps, 1000)
    epochs = -(-args.steps // steps_per_epoch)
    os.makedirs(args.output_dir, exist_ok=True)
    callbacks = [
        # Restores model, optimizer and epoch after an interruption: rerun the same command.
        keras.callbacks.BackupAndRestore(os.path.join(args.output_dir, "backup")),
        keras.callbacks.ModelCheckpoint(
            os.path.join(args.output_dir, "checkpoints", "epoch_{epoch:04d}.weights.h5"),
            save_weights_only=True),
        keras.callbacks.CSVLogger(os.path.join(args.output_dir, "history.csv"), append=True),
        keras.callbacks.TerminateOnNaN(),
    ]
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(args.output_dir, "logs")))
    else:
        print("tensorboard is not installed: logging to history.csv only "
              "(pip install tensorboard for TensorBoard logs).")
    os.makedirs(os.path.join(args.output_dir, "checkpoints"), exist_ok=True)
    history = pretrainer.fit(dataset, steps_per_epoch=steps_per_epoch, epochs=epochs,
                             callbacks=callbacks, verbose=2)
    preset_dir = os.path.join(args.output_dir, "discriminator_preset")
    pretrainer.discriminator.save_to_preset(preset_dir)
    tokenizer.save_to_preset(preset_dir)
    last = {k: round(float(v[-1]), 4) for k, v in history.history.items()}
    print(f"final metrics: {last}")
    print(f"discriminator preset written to {preset_dir}")
    return 0
