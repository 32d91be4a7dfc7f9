"""`convbert-tf info`: list the architecture presets and their parameter counts."""


def register(subparsers):
    parser = subparsers.add_parser(
        "info", help="List built-in architecture presets (optionally with parameter counts)."
    )
    parser.add_argument("--count-params", action="store_true",
                        help="build each preset and count its parameters (slow for large ones)")
    parser.set_defaults(func=run)


def run(args):
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

    for cls in (ConvBertBackbone, GroupBertBackbone):
        for name, preset in cls.presets.items():
            line = f"{cls.__name__:18s} {name:28s} {preset['metadata']['description']}"
            if args.count_params:
                backbone = cls.from_preset(name, load_weights=False)
                line += f"  params={backbone.count_params():,}"
            print(line)
    return 0
