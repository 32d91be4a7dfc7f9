"""GroupBERT checkpoint parity and parameter counts: writes bench/results/groupbert_parity.json.

Run from the repository root (no PyTorch needed; about a minute, mostly the counts):

    python bench/groupbert_parity.py

* Parity: the committed hub-layout fixtures (tests/checkpoints/data/groupbert_tiny{,_fp16}:
  `torch.save` of a random-weight `GroupBertForPreTraining` state dict, float32 and float16,
  config.json with model_type "groupbert") loaded with `load_hf_checkpoint(..., masked_lm=True)`
  against the independent float64 numpy port of the upstream PyTorch model
  (tests/checkpoints/groupbert_upstream_numpy.py, from optimum-graphcore 56e7ecf): sequence
  output, pooled output and MLM logits, max |difference| over real (non-padding) positions of
  a batch with padding and segment ids 1. Also: the same with the convolution bias zeroed
  (what the pre-fix model got wrong), and the TF1 variant (no bias, epsilon 1e-3).
* Parameter counts of every architecture preset (ConvBERT and GroupBERT backbones; GroupBERT's
  12-layer and per-module counts and the total with a tied MLM head), from built models.
"""

import json
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

OUT = os.path.join(ROOT, "bench", "results", "groupbert_parity.json")


def groupbert_parity():
    from safetensors.numpy import save_file

    from convbert_tf.checkpoints import load_hf_checkpoint
    from convbert_tf.checkpoints.torch_pickle import load_torch_state_dict
    from tests.checkpoints.test_groupbert_checkpoint import FIXTURES, _config, _dir, _max_errors

    def errors(model, state, config):
        seq, pooled, logits = _max_errors(model, state, config)
        row = {"sequence_output": seq, "pooled_output": pooled}
        if logits is not None:
            row["mlm_logits"] = logits
        return row

    results = {}
    for name in FIXTURES:
        state = load_torch_state_dict(os.path.join(_dir(name), "pytorch_model.bin"))
        model = load_hf_checkpoint(_dir(name), masked_lm=True)
        row = errors(model, state, _config(name))
        for layer in model.backbone.transformer_layers:
            layer.conv.conv_bias.assign(np.zeros(layer.conv.conv_bias.shape, "float32"))
        row["without_conv_bias"] = errors(model, state, _config(name))
        results[name] = row
    state = load_torch_state_dict(os.path.join(_dir("groupbert_tiny"), "pytorch_model.bin"))
    state = {k: np.ascontiguousarray(v) for k, v in state.items()
             if not k.endswith("groupconv.bias")}
    config = {**_config("groupbert_tiny"), "layer_norm_eps": 1e-3}
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f)
        save_file(state, os.path.join(tmp, "model.safetensors"))
        results["groupbert_tiny_tf1_variant"] = errors(load_hf_checkpoint(tmp), state, config)
    return results


def _count(*layers):
    return sum(int(np.prod(w.shape)) for layer in layers for w in layer.weights)


def parameter_counts():
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

    counts = {}
    for cls in (ConvBertBackbone, GroupBertBackbone):
        for name in cls.presets:
            backbone = cls.from_preset(name, load_weights=False)
            row = {"backbone": backbone.count_params()}
            if cls is GroupBertBackbone:
                layer = backbone.transformer_layers[0]
                d = backbone.hidden_dim
                row.update({
                    "layers": _count(*backbone.transformer_layers),
                    "per_layer": {"convolution": _count(layer.conv, layer.norms[0]),
                                  "feed_forward": _count(layer.feed_forward_1, layer.norms[1]),
                                  "attention": _count(layer.attention, layer.norms[2])},
                    # Tied MLM head: dense d->d, LayerNorm, output bias (the spec's totals).
                    "with_mlm_head": backbone.count_params() + d * d + d + 2 * d
                    + backbone.vocabulary_size,
                })
            counts[name] = row
            del backbone
    return counts


def main():
    results = {
        "command": "python bench/groupbert_parity.py",
        "tolerance_in_tests": 1e-4,
        "groupbert_max_abs_diff": groupbert_parity(),
        "parameter_counts": parameter_counts(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
