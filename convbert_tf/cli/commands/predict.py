"""`convbert-tf predict --model PATH TEXT...`: run an exported SavedModel or .tflite file."""


def register(subparsers):
    parser = subparsers.add_parser(
        "predict", help="Run an exported SavedModel directory or .tflite file on texts.",
        description="Quick check of an export: prints, per text, the predicted label and the "
        "class probabilities (classifiers) or the prediction (regressors).",
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="input texts")
    parser.add_argument("--model", required=True,
                        help="SavedModel base path or version directory, or a .tflite file")
    parser.add_argument("--pair-separator", default=None, metavar="SEP",
                        help="split each TEXT on SEP into a (text_a, text_b) pair, e.g. '|||'")
    parser.add_argument("--labels", default=None,
                        help="comma-separated class names (default: class indices)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per text")
    parser.set_defaults(func=run)


def split_pairs(texts, separator):
    """`["a ||| b"]` -> `(["a"], ["b"])`; raises if a text lacks the separator."""
    pairs = [t.split(separator, 1) for t in texts]
    bad = [t for t, p in zip(texts, pairs) if len(p) != 2]
    if bad:
        raise ValueError(f"--pair-separator {separator!r} not found in: {bad}")
    return [p[0].strip() for p in pairs], [p[1].strip() for p in pairs]


def format_rows(texts, outputs, labels=None):
    """One dict per text: `label` + `probabilities` (classifiers) or `prediction`."""
    rows = []
    for i, text in enumerate(texts):
        if "probabilities" in outputs:
            probs = [float(p) for p in outputs["probabilities"][i]]
            best = max(range(len(probs)), key=probs.__getitem__)
            names = labels or [str(c) for c in range(len(probs))]
            if len(names) != len(probs):
                raise ValueError(f"--labels has {len(names)} names for {len(probs)} classes.")
            rows.append({"text": text, "label": names[best],
                         "probabilities": dict(zip(names, probs))})
        else:
            rows.append({"text": text, "prediction": float(outputs["predictions"][i][0])})
    return rows


def run(args):
    import json

    from convbert_tf.export import load_predictor

    predictor = load_predictor(args.model)
    texts, texts_b = list(args.texts), None
    if args.pair_separator:
        texts, texts_b = split_pairs(texts, args.pair_separator)
    outputs = predictor.predict(texts, texts_b)
    labels = [s.strip() for s in args.labels.split(",")] if args.labels else None
    shown = args.texts
    for row in format_rows(shown, outputs, labels):
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        elif "label" in row:
            probs = "  ".join(f"{k}={v:.4f}" for k, v in row["probabilities"].items())
            print(f"{row['label']}\t{probs}\t{row['text']}")
        else:
            print(f"{row['prediction']:.4f}\t{row['text']}")
    return 0
