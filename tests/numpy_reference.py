"""Plain-numpy implementations of the spec's math, written independently of the layer code.

They use the "unfold" form (explicit windows) where the layers use shift-and-sum, and loops or
einsums where the layers use reshapes, so an indexing mistake cannot cancel out.
"""

import numpy as np
from scipy.special import erf


def dense(x, layer):
    kernel, bias = (np.asarray(w) for w in layer.weights)
    return x @ kernel + bias


def layer_norm(x, layer, eps):
    gamma, beta = (np.asarray(w) for w in layer.weights)
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def windows(x, k):
    """`[B, T, C]` -> `[B, T, k, C]`: position t sees t - (k-1)/2 ... t + (k-1)/2, zeros outside."""
    half = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (half, half), (0, 0)))
    return np.stack([padded[:, t : t + k] for t in range(x.shape[1])], axis=1)


def grouped_dense(x, kernel, bias=None):
    groups, i, o = kernel.shape
    out = np.concatenate(
        [x[..., g * i : (g + 1) * i] @ kernel[g] for g in range(groups)], axis=-1
    )
    return out if bias is None else out + bias


def self_attention(q, k, v, num_heads, mask=None):
    b, t, width = q.shape
    d = width // num_heads
    out = np.zeros_like(q)
    probs_all = []
    for h in range(num_heads):
        sl = slice(h * d, (h + 1) * d)
        scores = q[..., sl] @ np.swapaxes(k[..., sl], 1, 2) / np.sqrt(d)
        if mask is not None:
            scores = scores + (1.0 - mask[:, None, :]) * -10000.0
        probs = softmax(scores)
        probs_all.append(probs)
        out[..., sl] = probs @ v[..., sl]
    return out, np.stack(probs_all, axis=1)


def span_dynamic_conv(x, query, layer):
    """The span conv of the spec, unfold form."""
    n, d, k = layer.num_heads, layer.head_dim, layer.kernel_size
    depthwise = np.asarray(layer.key_conv.depthwise_kernel)[:, :, 0]  # [K, D]
    pointwise = np.asarray(layer.key_conv.pointwise_kernel)[0]  # [D, A]
    key_bias = np.asarray(layer.key_conv.bias)
    key = np.einsum("btkc,kc->btc", windows(x, k), depthwise) @ pointwise + key_bias
    logits = dense(key * query, layer.kernel_dense)
    b, t, _ = x.shape
    kernel = softmax(logits.reshape(b, t, n, k))
    value = windows(dense(x, layer.value_dense), k).reshape(b, t, k, n, d)
    out = np.einsum("btnk,btknh->btnh", kernel, value)
    return out.reshape(b, t, n * d)


def mixed_attention(x, layer, mask=None):
    q = dense(x, layer.query_dense)
    k = dense(x, layer.key_dense)
    v = dense(x, layer.value_dense)
    attn, probs = self_attention(q, k, v, layer.num_mixed_heads, mask)
    return np.concatenate([attn, span_dynamic_conv(x, q, layer.span_conv)], -1), probs


def ffn_dense(x, layer):
    kernel, bias = (np.asarray(w) for w in layer.weights)
    if kernel.ndim == 3:
        return grouped_dense(x, kernel, bias)
    return x @ kernel + bias


def convbert_layer(x, layer, mask=None):
    eps = layer.layer_norm_epsilon
    mixed, _ = mixed_attention(x, layer.attention, mask)
    a = layer_norm(dense(mixed, layer.attention_output_dense) + x, layer.attention_layer_norm, eps)
    h = gelu(ffn_dense(a, layer.intermediate_dense))
    return layer_norm(ffn_dense(h, layer.output_dense) + a, layer.output_layer_norm, eps)


def groupbert_conv_module(x, module, mask=None):
    d = module.hidden_dim
    glu = dense(x, module.glu_dense)
    gates, values = glu[..., :d], glu[..., d:]
    h = values / (1.0 + np.exp(-gates))
    if mask is not None:
        h = h * mask[..., None]
    kernel = np.asarray(module.conv_kernel)  # [k, G, gs, gs]
    k, groups, gs, _ = kernel.shape
    win = windows(h, k)  # [B, T, k, d]
    out = np.zeros_like(h)
    for g in range(groups):
        sl = slice(g * gs, (g + 1) * gs)
        for j in range(k):
            out[..., sl] += win[:, :, j, sl] @ kernel[j, g]
    if module.conv_bias is not None:
        out = out + np.asarray(module.conv_bias)
    out = layer_norm(out, module.layer_norm, module.layer_norm_epsilon)
    out = out / (1.0 + np.exp(-out))
    return dense(out, module.output_dense)


def grouped_feed_forward(x, module):
    h = gelu(dense(x, module.up_dense))
    h = grouped_dense(h, np.asarray(module.down_dense.kernel), np.asarray(module.down_dense.bias))
    return dense(h, module.mixer_dense)


def groupbert_layer(x, layer, mask=None):
    eps = layer.layer_norm_epsilon
    x = x + groupbert_conv_module(layer_norm(x, layer.norms[0], eps), layer.conv, mask)
    x = x + grouped_feed_forward(layer_norm(x, layer.norms[1], eps), layer.feed_forward_1)
    att = layer.attention
    h = layer_norm(x, layer.norms[2], eps)
    ctx, _ = self_attention(dense(h, att.query_dense), dense(h, att.key_dense),
                            dense(h, att.value_dense), att.num_heads, mask)
    x = x + dense(ctx, att.output_dense)
    return x + grouped_feed_forward(layer_norm(x, layer.norms[3], eps), layer.feed_forward_2)
