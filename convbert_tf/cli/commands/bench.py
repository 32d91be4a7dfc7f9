"""`convbert-tf bench`: points to the benchmark scripts (not shipped in the package)."""

BENCH_HINT = (
    "The speed benchmarks live in the source checkout, not in the installed package: run\n"
    "    python bench/model_speed.py [--quick]\n"
    "from a clone of the repository (see bench/README.md)."
)


def register(subparsers):
    parser = subparsers.add_parser(
        "bench", help="How to run the speed benchmarks (bench/model_speed.py in a checkout).",
        description=BENCH_HINT,
    )
    parser.set_defaults(func=run)


def run(args):
    print(BENCH_HINT)
    return 0
