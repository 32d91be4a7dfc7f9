"""The `convbert-tf` command line.

Each subcommand lives in its own module under `convbert_tf/cli/commands/` and defines
`register(subparsers)`, which adds its parser and sets `func` (a callable taking the parsed
args and returning an exit code). Modules are discovered, so adding a command touches one file.
Heavy imports (TensorFlow, models) happen inside `func`, which keeps `--help` fast.
"""

import argparse
import importlib
import os
import pkgutil
import sys

from convbert_tf import __version__
from convbert_tf.cli import commands


def build_parser():
    """Returns the top-level `argparse` parser with every discovered subcommand."""
    parser = argparse.ArgumentParser(
        prog="convbert-tf",
        description="ConvBERT and GroupBERT for Keras 3: fine-tune, pretrain, convert "
        "checkpoints, export to SavedModel / TFLite, predict, benchmark.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv=None):
    """Entry point of the `convbert-tf` console script; returns the process exit code."""
    # TensorFlow's C++ INFO/WARNING lines (no CUDA driver, CPU features) drown the output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, TypeError) as error:
        # Bad input is reported as one clear line, not a traceback.
        parser.exit(2, f"convbert-tf {args.command}: error: {error}\n")


if __name__ == "__main__":
    sys.exit(main())
