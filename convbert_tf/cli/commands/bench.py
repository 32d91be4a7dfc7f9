"""`convbert-tf bench`: forward / training-step speed against keras-hub BERT and HF ConvBERT."""


def register(subparsers):
    from convbert_tf.benchmarks.model_speed import add_arguments

    parser = subparsers.add_parser(
        "bench",
        help="Time ConvBERT / GroupBERT against keras-hub BERT-base and HF PyTorch ConvBERT "
        "(forward, AdamW train step, XLA), write JSON + PNG.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args):
    from convbert_tf.benchmarks.model_speed import run as run_benchmark

    run_benchmark(args)
    return 0
