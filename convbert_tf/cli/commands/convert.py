"""`convbert-tf convert`: a released checkpoint (HF or TF1) -> a keras-hub preset directory."""


def register(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="Convert a Hugging Face or official TF1 ConvBERT checkpoint to a preset directory.",
        description="Convert SRC (a Hugging Face directory with config.json and "
        "model.safetensors | tf_model.h5 | pytorch_model.bin, or an official TF1 checkpoint "
        "prefix/directory) into the keras-hub preset directory DST, readable with "
        "ConvBertBackbone.from_preset(DST).",
    )
    parser.add_argument("src", help="source checkpoint (directory, weights file or TF1 prefix)")
    parser.add_argument("dst", help="output preset directory")
    parser.add_argument("--format", choices=("auto", "hf", "tf1"), default="auto",
                        help="source format (default: detected)")
    parser.add_argument("--config", default=None, metavar="JSON",
                        help="TF1 only: a JSON file or inline JSON object with the model config "
                        "(default: inferred from the variable shapes)")
    parser.set_defaults(func=run)


def _parse_config(value):
    import json

    if value is None or not value.lstrip().startswith("{"):
        return value  # None or a path, which the loader reads
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"--config is not valid JSON: {error}") from error


def run(args):
    from convbert_tf.checkpoints import convert_checkpoint

    backbone = convert_checkpoint(args.src, args.dst, format=args.format,
                                  config=_parse_config(args.config))
    print(f"Wrote {args.dst}: ConvBertBackbone with {backbone.count_params():,} parameters "
          f"({backbone.num_layers} layers, hidden {backbone.hidden_dim}).")
    return 0
