"""`convbert-tf info`: list the architecture presets and the released checkpoints reachable by
name (`hf://` handles), with their sizes and sources."""


def register(subparsers):
    parser = subparsers.add_parser(
        "info", help="List built-in architecture presets and the released checkpoints "
        "(hf:// handles) with sizes and sources."
    )
    parser.add_argument("--count-params", action="store_true",
                        help="build each preset and count its parameters (slow for large ones)")
    parser.set_defaults(func=run)


def run(args):
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
    from convbert_tf.models.presets import HUB_CHECKPOINTS

    classes = (ConvBertBackbone, GroupBertBackbone)
    print("Architecture presets (`from_preset(name, load_weights=False)`):")
    for cls in classes:
        for name, preset in cls.presets.items():
            line = f"  {cls.__name__:18s} {name:28s} {preset['metadata']['description']}"
            if args.count_params:
                backbone = cls.from_preset(name, load_weights=False)
                line += f"  params={backbone.count_params():,}"
            print(line)
    print("\nReleased checkpoints (`from_preset(\"hf://REPO\")`, converted on the fly; "
          "`convbert-tf convert hf://REPO DST`):")
    presets = {name: p for cls in classes for name, p in cls.presets.items()}
    for repo, info in HUB_CHECKPOINTS.items():
        params = presets[info["preset"]]["metadata"]["params"]
        size_mb = params * info["bytes_per_param"] / 1e6
        print(f"  hf://{repo:34s} {info['backbone']:18s} {params:>12,} params, "
              f"~{size_mb:,.0f} MB weights\n"
              f"  {'':39s} files: {info['files']}\n"
              f"  {'':39s} source: {info['source']}")
    return 0
