"""Generates the committed parity fixtures from random-weight `transformers.ConvBertModel`s.

Run once (needs the bench extras: `transformers` and `torch==2.13.0`):

    .venv/bin/python tests/checkpoints/make_parity_fixtures.py

For each shape in `SHAPES` it writes `tests/checkpoints/data/<shape>/` with
  * config.json, model.safetensors: `ConvBertModel.save_pretrained` output (HF layout);
  * expected.npz: the input batch (token_ids, segment_ids, padding_mask) and the reference
    `last_hidden_state` of HF's PyTorch model in eval mode.
The shapes are tiny but keep the structural features of the released models: E != D with an
embeddings_project (small), grouped FFNs G=2 (medium-small), E == D (base); all use
head_ratio 2 and K=9, and the batch has padding at the end of a row and segment ids of 1.
The parity tests only need numpy, h5py, safetensors and TensorFlow.
"""

import json
import os

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

_COMMON = {
    "vocab_size": 64,
    "num_hidden_layers": 2,
    "head_ratio": 2,
    "conv_kernel_size": 9,
    "max_position_embeddings": 32,
    "type_vocab_size": 2,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
}
SHAPES = {
    # conv-bert-small: E=128 != D=256, 4 heads, G=1
    "small_like": {**_COMMON, "hidden_size": 32, "embedding_size": 16,
                   "num_attention_heads": 4, "intermediate_size": 64, "num_groups": 1},
    # conv-bert-medium-small: E=128 != D=384, 8 heads, G=2
    "medium_small_like": {**_COMMON, "hidden_size": 48, "embedding_size": 16,
                          "num_attention_heads": 8, "intermediate_size": 96, "num_groups": 2},
    # conv-bert-base: E == D, 12 heads, G=1
    "base_like": {**_COMMON, "hidden_size": 32, "embedding_size": 32,
                  "num_attention_heads": 4, "intermediate_size": 64, "num_groups": 1},
}
BATCH, SEQ_LEN, PAD_TAIL = 2, 16, 5


def make_inputs(vocab_size, seed=0):
    """Row 0 ends with `PAD_TAIL` padding tokens; the second half of each row is segment 1."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(1, vocab_size, size=(BATCH, SEQ_LEN)).astype("int32")
    padding_mask = np.ones((BATCH, SEQ_LEN), "int32")
    padding_mask[0, -PAD_TAIL:] = 0
    token_ids[0, -PAD_TAIL:] = 0
    segment_ids = np.zeros((BATCH, SEQ_LEN), "int32")
    segment_ids[:, SEQ_LEN // 2:] = 1
    segment_ids *= padding_mask
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}


def build_reference(shape, seed=0):
    """A `transformers.ConvBertModel` of `SHAPES[shape]` with every parameter randomised.

    HF's initialisation leaves biases at 0 and LayerNorms at (1, 0), which would hide
    mapping mistakes of those tensors; here every tensor gets distinct random values.
    """
    import torch
    from transformers import ConvBertConfig, ConvBertModel

    torch.manual_seed(seed)
    model = ConvBertModel(ConvBertConfig(**SHAPES[shape])).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "LayerNorm.weight" in name:
                param.copy_(1.0 + 0.2 * torch.randn_like(param))
            elif name.endswith("bias"):
                param.copy_(0.1 * torch.randn_like(param))
            elif "depthwise" in name:
                param.copy_(0.3 * torch.randn_like(param))
            else:
                param.copy_(0.1 * torch.randn_like(param))
    return model


def reference_output(model, inputs):
    """HF's `last_hidden_state` (float32 numpy) for our input dict."""
    import torch

    with torch.no_grad():
        out = model(
            input_ids=torch.as_tensor(inputs["token_ids"], dtype=torch.long),
            token_type_ids=torch.as_tensor(inputs["segment_ids"], dtype=torch.long),
            attention_mask=torch.as_tensor(inputs["padding_mask"], dtype=torch.long),
        )
    return out.last_hidden_state.numpy().astype("float32")


def main():
    for shape, config in SHAPES.items():
        directory = os.path.join(DATA_DIR, shape)
        os.makedirs(directory, exist_ok=True)
        model = build_reference(shape)
        model.save_pretrained(directory, safe_serialization=True)
        # Keep the committed config small and stable: only the keys the loader reads.
        with open(os.path.join(directory, "config.json"), "w", encoding="utf-8") as f:
            json.dump({"model_type": "convbert", **config}, f, indent=2, sort_keys=True)
        inputs = make_inputs(config["vocab_size"])
        np.savez_compressed(os.path.join(directory, "expected.npz"),
                            last_hidden_state=reference_output(model, inputs), **inputs)
        size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
        print(f"{shape}: {size / 1024:.0f} KiB in {directory}")


if __name__ == "__main__":
    main()
