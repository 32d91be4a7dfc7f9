"""An independent numpy port of the released PyTorch GroupBERT, written from its source.

Source: huggingface/optimum-graphcore, `optimum/graphcore/models/groupbert/` at commit 56e7ecf
(PR #139: `groupbert_convolution.py`, `groupbert_ffn.py`, `groupbert_attention.py`,
`modeling_groupbert.py`), whose BERT parts (embeddings, pooler, MLM head, extended attention
mask) are transformers 4.20.1's `modeling_bert.py`. It works on the checkpoint's own state dict
(PyTorch names and layouts, `bert.`-prefixed as `GroupBertForPreTraining` saves them), so it
shares nothing with `convbert_tf` (no Keras, no name map): a parity test against it checks the
model, the name map and the layout conversions at once.

Inference mode: every dropout is the identity.
"""

import math

import numpy as np
from scipy.special import erf


def _linear(x, state, name):
    # nn.Linear: y = x W^T + b, W [out, in].
    return x @ state[f"{name}.weight"].T + state[f"{name}.bias"]


def _layer_norm(x, state, name, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * state[f"{name}.weight"] + state[f"{name}.bias"]


def _gelu(x):
    # transformers' ACT2FN["gelu"]: the exact erf form.
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _conv1d(x, weight, bias, groups, padding):
    """nn.Conv1d on channels-last input: x [B, T, Cin], weight [Cout, Cin/groups, k]."""
    batch, steps, c_in = x.shape
    c_out, in_per_group, k = weight.shape
    out_per_group = c_out // groups
    padded = np.pad(x, ((0, 0), (padding, padding), (0, 0)))
    out = np.zeros((batch, steps, c_out), x.dtype)
    for g in range(groups):
        w = weight[g * out_per_group:(g + 1) * out_per_group]        # [o, i, k]
        xg = padded[..., g * in_per_group:(g + 1) * in_per_group]     # [B, T+2p, i]
        for j in range(k):  # cross-correlation, as PyTorch computes it
            out[..., g * out_per_group:(g + 1) * out_per_group] += xg[:, j:j + steps] @ w[:, :, j].T
    return out + bias


def _convolution(x, state, p, config, extended_mask):
    eps, d = config["layer_norm_eps"], config["hidden_size"]
    h = _layer_norm(x, state, f"{p}.prenorm", eps)
    h = _linear(h, state, f"{p}.glu")
    gates, values = h[..., :d], h[..., d:]
    h = values * (1.0 / (1.0 + np.exp(-gates)))
    # get_input_mask_from_attention_mask: 1 - ext / -10000 (true with transformers <= 4.20).
    input_mask = 1.0 - extended_mask / -10000.0          # [B, 1, 1, T]
    mask = np.swapaxes(input_mask[:, 0, :], 1, 2)        # [B, T, 1]
    h = h * mask
    bias = state.get(f"{p}.groupconv.bias")
    if bias is None:  # TF1-style checkpoint: no convolution bias
        bias = 0.0
    h = _conv1d(h, state[f"{p}.groupconv.weight"], bias, d // config["conv_group_size"],
                (config["conv_kernel_size"] - 1) // 2)
    h = _layer_norm(h, state, f"{p}.conv_norm", eps)
    h = h * (1.0 / (1.0 + np.exp(-h)))                  # nn.SiLU
    return x + _linear(h, state, f"{p}.output_projection")


def _feed_forward(x, state, intermediate, output, config):
    h = _layer_norm(x, state, f"{intermediate}.LayerNorm", config["layer_norm_eps"])
    h = _gelu(_linear(h, state, f"{intermediate}.dense"))
    h = _conv1d(h, state[f"{output}.grouped_matmul.weight"], state[f"{output}.grouped_matmul.bias"],
                config["ffn_groups"], 0)
    return x + _linear(h, state, f"{output}.dense_output_projection")


def _attention(x, state, p, config, extended_mask):
    heads = config["num_attention_heads"]
    h = _layer_norm(x, state, f"{p}.LayerNorm", config["layer_norm_eps"])
    batch, steps, d = h.shape
    head_dim = d // heads

    def split(t):
        return t.reshape(batch, steps, heads, head_dim).transpose(0, 2, 1, 3)

    q = split(_linear(h, state, f"{p}.self.query"))
    k = split(_linear(h, state, f"{p}.self.key"))
    v = split(_linear(h, state, f"{p}.self.value"))
    scores = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(head_dim)) + extended_mask
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, steps, d)
    return x + _linear(context, state, f"{p}.output.dense")


def groupbert_forward(state, config, input_ids, token_type_ids, attention_mask):
    """`GroupBertForPreTraining` in eval mode.

    Args:
        state: `{name: float array}`, keys as saved (`bert.embeddings...`, `cls.predictions...`).
        config: the `config.json` dict (`layer_norm_eps`, `ffn_groups`, `conv_group_size`, ...).
        input_ids, token_type_ids, attention_mask: int `[B, T]`.

    Returns:
        `(sequence_output [B, T, d], pooled_output [B, d], mlm_logits [B, T, V])`.
    """
    state = {k: np.asarray(v, np.float64) for k, v in state.items()}
    eps = config["layer_norm_eps"]
    steps = input_ids.shape[1]
    # BertEmbeddings: word + absolute position + token type, LayerNorm.
    x = (state["bert.embeddings.word_embeddings.weight"][input_ids]
         + state["bert.embeddings.position_embeddings.weight"][:steps][None]
         + state["bert.embeddings.token_type_embeddings.weight"][token_type_ids])
    x = _layer_norm(x, state, "bert.embeddings.LayerNorm", eps)
    # BertModel.get_extended_attention_mask (4.20.1): (1 - mask) * -10000, [B, 1, 1, T].
    extended = (1.0 - attention_mask[:, None, None, :].astype(np.float64)) * -10000.0
    for i in range(config["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}"
        x = _convolution(x, state, f"{p}.convolution", config, extended)
        x = _feed_forward(x, state, f"{p}.intermediate_first", f"{p}.output_first", config)
        x = _attention(x, state, f"{p}.attention", config, extended)
        x = _feed_forward(x, state, f"{p}.intermediate_second", f"{p}.output_second", config)
    sequence = _layer_norm(x, state, "bert.encoder.LayerNorm", eps)
    pooled = np.tanh(_linear(sequence[:, 0], state, "bert.pooler.dense"))
    # BertLMPredictionHead: transform (dense, gelu, LayerNorm), decoder tied to the word table.
    h = _gelu(_linear(sequence, state, "cls.predictions.transform.dense"))
    h = _layer_norm(h, state, "cls.predictions.transform.LayerNorm", eps)
    logits = h @ state["bert.embeddings.word_embeddings.weight"].T + state["cls.predictions.bias"]
    return sequence, pooled, logits
