"""`convbert-tf pretrain`: ELECTRA replaced-token-detection pretraining on plain-text files."""

RECIPES = ("small_budget", "released")


def register(subparsers):
    parser = subparsers.add_parser(
        "pretrain",
        help="Pretrain a ConvBERT / GroupBERT discriminator with ELECTRA replaced-token "
        "detection.",
        description="Streams one-sentence-per-line UTF-8 text files, packs them into "
        "fixed-length sequences, masks 15 percent of the tokens and trains generator + "
        "discriminator under XLA. Checkpoints every --checkpoint-every steps (atomic, the last "
        "--keep-checkpoints kept); rerunning the same command after an interruption resumes "
        "exactly where the last checkpoint left off. Writes the discriminator as a preset to "
        "OUTPUT_DIR/discriminator_preset.",
    )
    parser.add_argument("--corpus", required=True,
                        help="a text file, a glob, or a directory of *.txt files")
    parser.add_argument("--preset", required=True,
                        help="architecture preset (e.g. conv_bert_small_en, group_bert_mini_en), "
                        "or any other backbone source convbert_tf.load_backbone accepts "
                        "(preset directory, hf:// handle, HF / TF1 checkpoint)")
    parser.add_argument("--vocab", default=None, help="WordPiece vocabulary file (default: "
                        "the packaged uncased BERT vocabulary)")
    parser.add_argument("--recipe", choices=RECIPES, default="small_budget",
                        help="learning rate, warmup, batch, masking, generator size and RTD "
                        "weight (docs/pretraining.md); the flags below override single values")
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=1000, help="total optimizer steps")
    parser.add_argument("--checkpoint-every", type=int, default=None,
                        help="steps between checkpoints (default: min(steps, 500); must "
                        "divide --steps)")
    parser.add_argument("--keep-checkpoints", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=None, help="peak rate")
    parser.add_argument("--warmup-fraction", type=float, default=None,
                        help="share of --steps spent warming up")
    parser.add_argument("--rtd-weight", type=float, default=None)
    parser.add_argument("--optimizer", choices=("lamb", "adamw"), default=None,
                        help="lamb (small_budget) or adamw (released); docs/pretraining.md says "
                        "why short runs need lamb")
    parser.add_argument("--short-sequence-rate", type=float, default=None,
                        help="share of packed rows truncated to a random length (0.1, as in "
                        "BERT and ELECTRA), so the model sees padding as fine-tuning does")
    parser.add_argument("--temperature", type=float, default=None,
                        help="the generator's sampling temperature (small_budget 3.0; "
                        "released 1.0, as in ELECTRA); above 1 its samples are flatter, so more "
                        "replacements are rare words (docs/pretraining.md)")
    parser.add_argument("--initializer-range", type=float, default=None,
                        help="initial weight scale (truncated-normal std) of a discriminator "
                        "built from an architecture preset; default 0.02 as released "
                        "(docs/pretraining.md: when a larger one helps)")
    parser.add_argument("--output-dir", default="convbert_pretraining")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-xla", action="store_true", help="disable XLA (debugging)")
    parser.set_defaults(func=run)


def run(args):
    import importlib.util
    import os

    import keras

    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone, load_backbone
    from convbert_tf.preprocessing import ConvBertTokenizer
    from convbert_tf.training.pretraining import pretrain
    from convbert_tf.training.pretraining_data import find_text_files

    for name in ("sequence_length", "steps", "keep_checkpoints"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be positive.")
    every = args.checkpoint_every or min(args.steps, 500)
    if args.steps % every:
        raise ValueError(f"--checkpoint-every {every} must divide --steps {args.steps}.")
    tokenizer = ConvBertTokenizer(vocabulary=args.vocab)
    find_text_files(args.corpus)  # fails early and clearly, before any model is built
    overrides = {"vocabulary_size": tokenizer.vocabulary_size()}
    keras.utils.set_random_seed(args.seed)
    architecture = args.preset in {*ConvBertBackbone.presets, *GroupBertBackbone.presets}
    if args.initializer_range is not None:
        if not architecture:
            raise ValueError(f"--initializer-range sets the initial weights of a model built "
                             f"from an architecture preset; --preset {args.preset!r} loads "
                             "trained weights.")
        overrides["initializer_range"] = args.initializer_range
    if architecture:
        discriminator = load_backbone(args.preset, argument="--preset", **overrides)
    else:
        discriminator = load_backbone(args.preset, argument="--preset")
        if discriminator.vocabulary_size != tokenizer.vocabulary_size():
            raise ValueError(f"The preset's vocabulary ({discriminator.vocabulary_size}) and "
                             f"--vocab ({tokenizer.vocabulary_size()}) differ.")
    settings = {key: value for key, value in (
        ("batch_size", args.batch_size), ("learning_rate", args.learning_rate),
        ("warmup_fraction", args.warmup_fraction), ("rtd_weight", args.rtd_weight),
        ("optimizer", args.optimizer), ("short_sequence_rate", args.short_sequence_rate),
        ("temperature", args.temperature),
    ) if value is not None}
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(args.output_dir, "logs")))
    pretrainer, history = pretrain(
        discriminator, args.corpus, args.output_dir, tokenizer, steps=args.steps,
        sequence_length=args.sequence_length, recipe=args.recipe, checkpoint_every=every,
        keep_checkpoints=args.keep_checkpoints, seed=args.seed, jit_compile=not args.no_xla,
        callbacks=callbacks, **settings,
    )
    preset_dir = os.path.join(args.output_dir, "discriminator_preset")
    pretrainer.discriminator.save_to_preset(preset_dir)
    tokenizer.save_to_preset(preset_dir)
    if history:
        print(f"final metrics (step {history[-1]['step']}): {history[-1]}")
    print(f"discriminator preset written to {preset_dir}")
    return 0
