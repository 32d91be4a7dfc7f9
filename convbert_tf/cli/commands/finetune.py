"""`convbert-tf finetune`: fine-tune on a GLUE task with the official recipe."""

TASKS = ("cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli")
# `convbert_tf.tasks.heads.POOLING_CHOICES`, spelled out so that `--help` imports no Keras
# (tests/training/test_glue_runner.py keeps the two equal).
POOLINGS = ("auto", "first_token", "pooled", "mean")


def register(subparsers):
    parser = subparsers.add_parser(
        "finetune",
        help="Fine-tune on a GLUE task (AdamW, warmup + linear decay, layer-wise lr decay, XLA).",
        description="Fine-tune a ConvBERT / GroupBERT on a GLUE task with the official recipe. "
        "Data come from GLUE-format .tsv files (--data-dir) or a locally prepared "
        "tensorflow-datasets glue/<task>. Rerunning the same command after an interruption "
        "(even mid-epoch) resumes exactly from OUTPUT_DIR/backup.",
    )
    parser.add_argument("--task", required=True, type=str.lower, choices=TASKS)
    parser.add_argument("--preset", default="conv_bert_small_en",
                        help="architecture preset (random weights) unless --checkpoint")
    parser.add_argument("--checkpoint",
                        help="what to start from: a HF / TF1 checkpoint, a preset directory or "
                        "an hf:// / kaggle:// handle (convbert_tf.load_backbone)")
    parser.add_argument("--data-dir", help="GLUE root with <TASK>/train.tsv and dev files")
    parser.add_argument("--tfds-data-dir", help="tensorflow-datasets data dir (without --data-dir)")
    parser.add_argument("--epochs", type=int, help="default 3 (10 for rte and stsb)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float,
                        help="peak learning rate (default: 1e-4 if the backbone, from --checkpoint "
                        "or --preset, is base size (hidden 768+), else 3e-4; printed)")
    parser.add_argument("--mixed-precision", choices=("bf16", "fp16"))
    parser.add_argument("--distribution", default="default",
                        choices=("default", "mirrored", "multi_worker", "tpu"),
                        help="tf.distribute strategy (multi_worker reads TF_CONFIG)")
    parser.add_argument("--tpu", help="TPU name or address for --distribution tpu")
    parser.add_argument("--output-dir", help="checkpoints, backups and logs (default runs/TASK)")
    parser.add_argument("--max-train-examples", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pooling", default="auto", choices=POOLINGS,
                        help="the head's sentence vector (auto: first token for ConvBERT, the "
                        "pooler for GroupBERT); mean for a discriminator from a short "
                        "`convbert-tf pretrain` run")
    parser.add_argument("--backup-every", type=int, default=100,
                        help="save the full training state every N steps (and each epoch end) "
                        "to OUTPUT_DIR/backup; rerunning resumes exactly there")
    parser.set_defaults(func=run)


def run(args):
    from convbert_tf.training.distribute import create_strategy
    from convbert_tf.training.glue import run_glue
    from convbert_tf.training.glue_data import load_glue

    # Check the data before building a strategy or a model: bad input fails in seconds.
    load_glue(args.task, args.data_dir, args.tfds_data_dir, max_train_examples=1)
    strategy = create_strategy(args.distribution, tpu=args.tpu)
    run_glue(
        args.task, preset=args.preset, checkpoint=args.checkpoint, data_dir=args.data_dir,
        tfds_data_dir=args.tfds_data_dir, epochs=args.epochs, batch_size=args.batch_size,
        sequence_length=args.sequence_length, learning_rate=args.learning_rate,
        mixed_precision=args.mixed_precision, output_dir=args.output_dir,
        max_train_examples=args.max_train_examples, strategy=strategy, seed=args.seed,
        backup_every=args.backup_every, pooling=args.pooling,
    )
    return 0
