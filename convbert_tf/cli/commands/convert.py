"""`convbert-tf convert`: a released checkpoint (HF or TF1) -> a keras-hub preset directory."""


def register(subparsers):
    parser = subparsers.add_parser(
        "convert",
        help="Convert a Hugging Face (ConvBERT or GroupBERT) or official TF1 ConvBERT "
        "checkpoint to a preset directory.",
        description="Convert SRC (a Hugging Face directory with config.json and "
        "model.safetensors | tf_model.h5 | pytorch_model.bin, model_type 'convbert' or "
        "'groupbert'; an official TF1 ConvBERT checkpoint prefix/directory; or an hf://ORG/NAME "
        "handle, fetched through the Hugging Face cache) into the keras-hub preset directory "
        "DST, readable with ConvBertBackbone / GroupBertBackbone.from_preset(DST). No PyTorch "
        "is needed.",
    )
    parser.add_argument("src", help="source checkpoint (directory, weights file, TF1 prefix or "
                        "hf://ORG/NAME)")
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

    src = args.src
    if src.startswith("hf://"):
        from convbert_tf.checkpoints.hf_hub import download_hf_checkpoint

        src = download_hf_checkpoint(src)
    backbone = convert_checkpoint(src, args.dst, format=args.format,
                                  config=_parse_config(args.config))
    print(f"Wrote {args.dst}: {type(backbone).__name__} with {backbone.count_params():,} "
          "parameters "
          f"({backbone.num_layers} layers, hidden {backbone.hidden_dim}).")
    return 0
