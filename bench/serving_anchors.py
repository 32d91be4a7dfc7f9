"""What CPU-serving users would pick instead: Hugging Face PyTorch ConvBERT (eager) and ONNX
Runtime on the same HF model exported to ONNX (ORT's transformer optimizer; fp32 and dynamic
int8). Random weights of the given size (speed does not depend on them).

Run by `bench/serving_latency.py` in the interpreter given by `--anchor-python` (the `bench`
extra: torch, transformers, onnxruntime, onnx), so TensorFlow and PyTorch never share a
process. Prints one JSON object: `{variant: {shape: {"p50_ms", "p99_ms", "runs"}}, "bytes":
..., "versions": ...}`; a variant that cannot run records `{"unavailable": reason}`.

Usage:
    python bench/serving_anchors.py --config '{"hidden_dim": 256, ...}' --shapes 1x128,8x128
"""

import argparse
import json
import os
import statistics
import tempfile
import time

# On a shared machine, spinning worker threads (OpenMP's default in torch, ORT's intra-op
# pool) turn oversubscription into multi-second stalls; TensorFlow's pool blocks instead.
# Passive waiting gives each runtime the same footing. Set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def timed(fn, runs, budget_s):
    fn()  # warmup (ORT / oneDNN primitive creation)
    times, start = [], time.perf_counter()
    while len(times) < runs and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": statistics.median(times), "p99_ms": percentile(times, 99),
            "runs": len(times)}


def hf_config(cfg):
    from transformers import ConvBertConfig

    return ConvBertConfig(
        vocab_size=cfg["vocabulary_size"], hidden_size=cfg["hidden_dim"],
        num_hidden_layers=cfg["num_layers"], num_attention_heads=cfg["num_heads"],
        intermediate_size=cfg["intermediate_dim"], embedding_size=cfg["embedding_dim"],
        head_ratio=cfg.get("head_ratio", 2), conv_kernel_size=cfg.get("conv_kernel_size", 9),
        num_groups=cfg.get("num_groups", 1), max_position_embeddings=cfg["max_sequence_length"],
        num_labels=2,
    )


def export_onnx(model, path, seq_len):
    import torch

    ids = torch.ones((1, seq_len), dtype=torch.long)
    kwargs = dict(input_names=["input_ids", "attention_mask", "token_type_ids"],
                  output_names=["logits"], opset_version=17,
                  dynamic_axes={k: {0: "batch", 1: "seq"} for k in
                                ("input_ids", "attention_mask", "token_type_ids")})
    try:  # the TorchScript exporter: what ORT's transformer optimizer is written against
        torch.onnx.export(model, (ids, ids, torch.zeros_like(ids)), path, dynamo=False, **kwargs)
    except TypeError:
        torch.onnx.export(model, (ids, ids, torch.zeros_like(ids)), path, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="ConvBERT backbone config as JSON")
    parser.add_argument("--shapes", default="1x128,8x128")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--budget-s", type=float, default=20.0,
                        help="stop a (variant, shape) after this many seconds (min 3 runs)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    cfg = json.loads(args.config)
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    report = {"bytes": {}, "versions": {}}
    import numpy as np

    try:
        import torch
        import transformers
        from transformers import ConvBertForSequenceClassification
    except ImportError as e:
        print(json.dumps({"unavailable": f"torch/transformers not installed: {e}"}))
        return
    torch.set_num_threads(args.threads)
    report["versions"].update(torch=torch.__version__, transformers=transformers.__version__)
    torch.manual_seed(0)
    model = ConvBertForSequenceClassification(hf_config(cfg)).eval()
    rng = np.random.default_rng(0)

    def inputs(b, s):
        ids = rng.integers(1, cfg["vocabulary_size"], (b, s)).astype(np.int64)
        return ids, np.ones_like(ids), np.zeros_like(ids)

    torch_rows = {}
    with torch.inference_mode():
        for b, s in shapes:
            ids, mask, tt = (torch.from_numpy(x) for x in inputs(b, s))
            torch_rows[f"{b}x{s}"] = timed(
                lambda ids=ids, mask=mask, tt=tt: model(input_ids=ids, attention_mask=mask,
                                                        token_type_ids=tt),
                args.runs, args.budget_s)
    report["hf_torch_eager"] = torch_rows

    work = tempfile.mkdtemp(prefix="ort_")
    try:
        import onnx
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
    except ImportError as e:
        for name in ("ort_fp32", "ort_dynamic_int8"):
            report[name] = {"unavailable": f"onnxruntime/onnx not installed: {e}"}
        print(json.dumps(report))
        return
    report["versions"]["onnxruntime"] = ort.__version__

    def time_session(name, path):
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        report["bytes"][name] = os.path.getsize(path)
        rows = {}
        for b, s in shapes:
            ids, mask, tt = inputs(b, s)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
            rows[f"{b}x{s}"] = timed(lambda feed=feed: session.run(None, feed), args.runs,
                                     args.budget_s)
        report[name] = rows

    optimized = os.path.join(work, "model_opt.onnx")
    try:
        raw = os.path.join(work, "model.onnx")
        export_onnx(model, raw, max(s for _, s in shapes))
        # model_type="bert": LayerNorm / GELU / embedding fusions apply; ConvBERT's mixed
        # attention does not match the BERT attention pattern, so it stays unfused.
        opt = optimizer.optimize_model(raw, model_type="bert", num_heads=cfg["num_heads"],
                                       hidden_size=cfg["hidden_dim"])
        opt.save_model_to_file(optimized)
        report["ort_fusions"] = {k: v for k, v in opt.get_fused_operator_statistics().items()
                                 if v}
        time_session("ort_fp32", optimized)
    except Exception as e:  # noqa: BLE001  (record why, keep the torch numbers)
        report["ort_fp32"] = {"unavailable": f"{type(e).__name__}: {e}"[:500]}
    try:
        int8 = os.path.join(work, "model_int8.onnx")
        # The fused graph has contrib-domain ops that shape inference cannot type.
        quantize_dynamic(optimized, int8, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        time_session("ort_dynamic_int8", int8)
    except Exception as e:  # noqa: BLE001
        report["ort_dynamic_int8"] = {"unavailable": f"{type(e).__name__}: {e}"[:500]}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
