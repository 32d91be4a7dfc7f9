"""`convbert-tf export saved-model | tflite`: a trained task -> TF Serving / TFLite artifacts."""

QUANTIZATION_CHOICES = ("none", "float16", "dynamic_int8", "int8")


def register(subparsers):
    parser = subparsers.add_parser(
        "export", help="Export a trained task to a TF Serving SavedModel or a TFLite file.",
        description="Export a trained ConvBertTextClassifier / ConvBertTextRegressor (a .keras "
        "file or a keras-hub task preset directory). See docs/export.md.",
    )
    formats = parser.add_subparsers(dest="format", metavar="FORMAT")
    formats.required = True

    saved = formats.add_parser(
        "saved-model", help="SavedModel in TF Serving's layout: OUTPUT/<version>/.")
    _common(saved)
    saved.add_argument("--version", type=int, default=None,
                       help="version directory (default: next integer)")
    xla = saved.add_mutually_exclusive_group()
    xla.add_argument("--no-xla", dest="jit_compile", action="store_false", default=None,
                     help="do not XLA-compile the model part (for servers without "
                     "--xla_cpu_compilation_enabled)")
    xla.add_argument("--xla", dest="jit_compile", action="store_true",
                     help="XLA-compile the model part (default for float32, not for bfloat16)")
    saved.add_argument("--precision", choices=("float32", "bfloat16"), default="float32",
                       help="bfloat16: bf16 weights and matmuls through oneDNN (for CPUs "
                       "with AVX512_BF16 / AMX); element-wise ops stay float32")
    saved.add_argument("--batch-buckets", default=None,
                       help="comma-separated batch sizes the model part runs at (requests are "
                       "padded up to them); default 1,2,4,8,16,32,64 with XLA, none without; "
                       "'' for none")
    saved.add_argument("--warmup-batch-sizes", default=None,
                       help="comma-separated batch sizes for warmup records (default: every "
                       "bucket, else 1,8; '' for none)")
    saved.set_defaults(func=run_saved_model)

    lite = formats.add_parser("tflite", help="A .tflite file (builtins only, checked).")
    _common(lite)
    lite.add_argument("--quantization", choices=QUANTIZATION_CHOICES, default="none")
    lite.add_argument("--include-tokenizer", action="store_true",
                      help="tokenize inside the model (tf.text custom ops)")
    lite.add_argument("--representative-data", metavar="TSV",
                      help="int8 calibration texts: a TSV with a 'sentence' column (or "
                      "'sentence1'/'sentence2' for pairs), or one text per line")
    lite.add_argument("--num-representative", type=int, default=200,
                      help="how many calibration texts to read (default 200)")
    lite.set_defaults(func=run_tflite)


def _common(parser):
    parser.add_argument("--model", required=True,
                        help="trained task: a .keras file or a keras-hub task preset directory")
    parser.add_argument("--output", required=True,
                        help="SavedModel base path (saved_models/<name>) or .tflite file")
    parser.add_argument("--sequence-length", type=int, default=None,
                        help="fixed padded length (default: the preprocessor's)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing version directory / file")


def load_task(path):
    """Loads a task from a `.keras` file or a keras-hub task preset directory."""
    import os

    import keras
    import keras_hub

    import convbert_tf.preprocessing  # noqa: F401  (registers the serialisable classes)
    import convbert_tf.tasks  # noqa: F401

    if not os.path.exists(path):
        raise FileNotFoundError(f"No model at {path!r}.")
    if os.path.isdir(path):
        return keras_hub.models.Task.from_preset(path)
    return keras.saving.load_model(path, compile=False)


def read_texts(path, limit):
    """Texts (or `(a, b)` pairs) from a GLUE-style TSV with a header, or one text per line."""
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    header = lines[0].split("\t") if lines else []
    if "sentence1" in header and "sentence2" in header:
        a, b = header.index("sentence1"), header.index("sentence2")
        rows = [line.split("\t") for line in lines[1:]]
        return [(r[a], r[b]) for r in rows[:limit]]
    if "sentence" in header:
        column = header.index("sentence")
        return [line.split("\t")[column] for line in lines[1:limit + 1]]
    return lines[:limit]


def _int_list(text, flag):
    """`"1,8"` -> `(1, 8)`; None stays None (the default); `""` -> `()`."""
    if text is None:
        return None
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated integers, e.g. 1,8. "
                         f"Received: {text!r}") from None


def run_saved_model(args):
    from convbert_tf.export import export_saved_model

    path = export_saved_model(
        load_task(args.model), args.output, sequence_length=args.sequence_length,
        version=args.version, jit_compile=args.jit_compile, precision=args.precision,
        batch_buckets=_int_list(args.batch_buckets, "--batch-buckets"),
        warmup_batch_sizes=_int_list(args.warmup_batch_sizes, "--warmup-batch-sizes"),
        overwrite=args.overwrite,
    )
    print(f"Wrote {path}")
    return 0


def run_tflite(args):
    import os

    from convbert_tf.export import export_tflite

    quantization = None if args.quantization == "none" else args.quantization
    texts = read_texts(args.representative_data, args.num_representative) \
        if args.representative_data else None
    ops = export_tflite(
        load_task(args.model), args.output, quantization=quantization,
        include_tokenizer=args.include_tokenizer, sequence_length=args.sequence_length,
        representative_texts=texts, overwrite=args.overwrite,
    )
    size = os.path.getsize(args.output) / 2**20
    print(f"Wrote {args.output} ({size:.2f} MiB, {len(ops)} op types: {', '.join(ops)})")
    return 0
