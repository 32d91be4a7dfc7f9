"""Writes the committed `torch.save` fixtures that the PyTorch-free `.bin` reader is tested on.

Run once with any Python that has PyTorch and numpy (not the project's .venv, which has no
torch), from the repository root:

    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy safetensors
    /tmp/torchenv/bin/python tests/checkpoints/make_torch_bin_fixtures.py

It writes, under tests/checkpoints/data/:
  * torch_bin/{float32,float16,bfloat16}.bin: a small state dict per dtype with the cases a
    reader can get wrong (a transposed, non-contiguous view; two tensors sharing one storage
    at an offset; an int64 buffer; a 0-d tensor; the `_metadata` attribute of real state
    dicts), and torch_bin/expected.npz: the same tensors as torch itself reads them back
    (`.float().numpy()`, int64 as is);
  * groupbert_tiny/ and groupbert_tiny_fp16/: a random-weight GroupBERT hub directory in the
    layout of `Graphcore/groupbert-base-uncased` (config.json with model_type "groupbert",
    pytorch_model.bin of `GroupBertForPreTraining` keys: bert.*, cls.predictions.* with the
    tied decoder duplicates, cls.seq_relationship.* and the position_ids buffer);
  * small_like/pytorch_model.bin: the ConvBERT small-like fixture's safetensors re-saved with
    torch.save (so the same expected.npz checks ConvBERT `.bin` loading).
The weights are numpy-generated from fixed seeds; torch only serialises them.
"""

import collections
import json
import os

import numpy as np
import torch

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

GROUPBERT_CONFIG = {
    "architectures": ["GroupBertForPreTraining"],
    "model_type": "groupbert",
    "vocab_size": 64,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "ffn_groups": 4,
    "conv_group_size": 16,
    "conv_kernel_size": 7,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "max_position_embeddings": 32,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
    "initializer_range": 0.02,
}


def generic_state(dtype):
    rng = np.random.default_rng(0)
    base = torch.tensor(rng.normal(size=(4, 6)).astype("float32")).to(dtype)
    flat = torch.tensor(rng.normal(size=(20,)).astype("float32")).to(dtype)
    state = collections.OrderedDict()
    state["dense.weight"] = base
    state["dense.weight_t"] = base.t()                     # non-contiguous view, same storage
    state["shared.tail"] = flat[5:17].view(3, 4)           # storage offset 5
    state["shared.head"] = flat[:5]
    state["scalar"] = torch.tensor(3.5).to(dtype)
    state["position_ids"] = torch.arange(8).view(1, 8)     # int64 buffer
    state._metadata = collections.OrderedDict({"": {"version": 1}})
    return state


def write_generic():
    out = os.path.join(DATA, "torch_bin")
    os.makedirs(out, exist_ok=True)
    expected = {}
    for name, dtype in (("float32", torch.float32), ("float16", torch.float16),
                        ("bfloat16", torch.bfloat16)):
        state = generic_state(dtype)
        torch.save(state, os.path.join(out, f"{name}.bin"))
        back = torch.load(os.path.join(out, f"{name}.bin"), weights_only=True)
        for key, value in back.items():
            array = value.numpy() if not value.is_floating_point() else value.float().numpy()
            expected[f"{name}/{key}"] = array
    np.savez(os.path.join(out, "expected.npz"), **expected)


def groupbert_state(config, seed=0):
    rng = np.random.default_rng(seed)
    d, inter, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    groups, gs, k = config["ffn_groups"], config["conv_group_size"], config["conv_kernel_size"]
    state = collections.OrderedDict()

    def normal(*shape, scale=0.2):
        return rng.normal(scale=scale, size=shape).astype("float32")

    def linear(name, n_in, n_out):
        state[f"{name}.weight"] = normal(n_out, n_in)
        state[f"{name}.bias"] = normal(n_out, scale=0.1)

    def norm(name):
        state[f"{name}.weight"] = 1.0 + normal(d, scale=0.1)
        state[f"{name}.bias"] = normal(d, scale=0.1)

    state["bert.embeddings.position_ids"] = np.arange(config["max_position_embeddings"])[None]
    state["bert.embeddings.word_embeddings.weight"] = normal(vocab, d, scale=0.5)
    state["bert.embeddings.position_embeddings.weight"] = normal(
        config["max_position_embeddings"], d, scale=0.5)
    state["bert.embeddings.token_type_embeddings.weight"] = normal(
        config["type_vocab_size"], d, scale=0.5)
    norm("bert.embeddings.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}"
        norm(f"{p}.convolution.prenorm")
        linear(f"{p}.convolution.glu", d, 2 * d)
        state[f"{p}.convolution.groupconv.weight"] = normal(d, gs, k)
        state[f"{p}.convolution.groupconv.bias"] = normal(d, scale=0.1)
        norm(f"{p}.convolution.conv_norm")
        linear(f"{p}.convolution.output_projection", d, d)
        for which in ("first", "second"):
            if which == "second":
                norm(f"{p}.attention.LayerNorm")
                for proj in ("query", "key", "value"):
                    linear(f"{p}.attention.self.{proj}", d, d)
                linear(f"{p}.attention.output.dense", d, d)
            norm(f"{p}.intermediate_{which}.LayerNorm")
            linear(f"{p}.intermediate_{which}.dense", d, inter)
            state[f"{p}.output_{which}.grouped_matmul.weight"] = normal(d, inter // groups, 1)
            state[f"{p}.output_{which}.grouped_matmul.bias"] = normal(d, scale=0.1)
            linear(f"{p}.output_{which}.dense_output_projection", d, d)
    norm("bert.encoder.LayerNorm")
    linear("bert.pooler.dense", d, d)
    linear("cls.predictions.transform.dense", d, d)
    norm("cls.predictions.transform.LayerNorm")
    state["cls.predictions.bias"] = normal(vocab, scale=0.1)
    # Tied duplicates, as BertForPreTraining saves them.
    state["cls.predictions.decoder.weight"] = state["bert.embeddings.word_embeddings.weight"]
    state["cls.predictions.decoder.bias"] = state["cls.predictions.bias"]
    linear("cls.seq_relationship", d, 2)
    return state


def write_groupbert():
    state = groupbert_state(GROUPBERT_CONFIG)
    for folder, dtype in (("groupbert_tiny", torch.float32),
                          ("groupbert_tiny_fp16", torch.float16)):
        out = os.path.join(DATA, folder)
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump({**GROUPBERT_CONFIG, "torch_dtype": str(dtype).split(".")[1]}, f, indent=2)
        tensors = collections.OrderedDict()
        for key, value in state.items():
            tensor = torch.from_numpy(np.ascontiguousarray(value))
            tensors[key] = tensor.to(dtype) if tensor.is_floating_point() else tensor
        # The decoder shares the word table's storage, as in a tied PyTorch model.
        tensors["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"]
        tensors["cls.predictions.decoder.bias"] = tensors["cls.predictions.bias"]
        torch.save(tensors, os.path.join(out, "pytorch_model.bin"))


def write_convbert_bin():
    from safetensors.torch import load_file

    folder = os.path.join(DATA, "small_like")
    state = load_file(os.path.join(folder, "model.safetensors"))
    torch.save(collections.OrderedDict(state), os.path.join(folder, "pytorch_model.bin"))


if __name__ == "__main__":
    write_generic()
    write_groupbert()
    write_convbert_bin()
