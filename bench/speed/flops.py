"""Analytic forward FLOPs per token of BERT, ConvBERT and GroupBERT encoders.

Convention (the one of the GroupBERT paper's table, which this reproduces: BERT-base 0.175 and
GroupBERT-base 0.276 GFLOP/token at sequence length 128):

* a matmul `[m, k] @ [k, n]` costs `2 * m * k * n` FLOPs (one multiply and one add per MAC), so
  a dense layer `k -> n` costs `2 * k * n` per token;
* attention costs, per token and per attended width `w` (all heads together), `2 * T * w` for
  `q k^T` and `2 * T * w` for `probs @ v`: `4 * T * w`;
* bias adds, LayerNorm, softmax, GELU and other element-wise work are left out (they are
  O(width) per token, under 1% at base size) -- except the convolution taps below, which are the
  point of ConvBERT and GroupBERT and are counted as 2 FLOPs per tap and channel;
* the embedding lookup is free; the pooler, task heads and MLM decoder are not counted.

Per layer, with `D` the width, `I` the FFN width, `T` the sequence length:

BERT::

    q, k, v, output projections   4 * 2*D*D     = 8 D^2
    q k^T and probs @ v           4 * T * D
    FFN up + down                 2 * 2*D*I     = 4 D I

ConvBERT (A = N*d attention width of each branch, N heads, K span width, G FFN groups)::

    q, k, v projections           3 * 2*D*A
    separable key conv            2*K*D (depthwise taps) + 2*D*A (pointwise)
    kernel generator A -> N*K     2*A*N*K
    conv value projection         2*D*A
    K-tap shift-and-sum           2*K*A
    attention (N heads of d)      4 * T * A
    output projection 2A -> D     2*2A*D
    grouped FFN up + down         2 * 2*D*I/G

With A = D/2 this is 3.5 D^2 + 2 D^2 (output) + 4DI/G + 2TD + O(K*D): ConvBERT-base saves one
D^2 of projections and half of the T-dependent attention against BERT-base, i.e. 0.950x the
FLOPs per token at T = 128 and 0.917x at T = 512 (the ratio falls with T).

GroupBERT (conv kernel k, group size gs, FFN groups G)::

    conv module   GLU d -> 2d: 4 d^2; grouped conv: 2*k*d*gs; output d -> d: 2 d^2
    2 x grouped FFN   up d -> I: 2 d I; grouped down I -> d: 2 I d / G; mixer: 2 d^2
    attention     8 d^2 + 4 T d

An `embedding_dim != hidden_dim` projection adds `2 * E * D` once per token (ConvBERT small and
medium-small).
"""


def bert_layer_flops(hidden_dim, intermediate_dim, seq_len):
    """Forward FLOPs per token of one BERT encoder layer."""
    d, i = hidden_dim, intermediate_dim
    return 8 * d * d + 4 * seq_len * d + 4 * d * i


def convbert_layer_flops(hidden_dim, intermediate_dim, num_heads, seq_len, head_ratio=2,
                         conv_kernel_size=9, num_groups=1):
    """Forward FLOPs per token of one ConvBERT layer (mixed attention + grouped FFN)."""
    d, k, g = hidden_dim, conv_kernel_size, num_groups
    head_dim = d // num_heads
    heads = max(num_heads // head_ratio, 1)
    a = heads * head_dim
    mixed = (
        3 * 2 * d * a            # query, key, value
        + 2 * k * d + 2 * d * a  # separable conv: depthwise taps + pointwise
        + 2 * a * heads * k      # span kernel generator
        + 2 * d * a              # conv value projection
        + 2 * k * a              # K-tap shift-and-sum
        + 4 * seq_len * a        # q k^T and probs @ v
    )
    return mixed + 2 * (2 * a) * d + 2 * 2 * d * intermediate_dim // g


def groupbert_layer_flops(hidden_dim, intermediate_dim, seq_len, num_groups=4,
                          conv_kernel_size=7, conv_group_size=16):
    """Forward FLOPs per token of one GroupBERT layer (conv, FFN, attention, FFN)."""
    d, i = hidden_dim, intermediate_dim
    conv = 4 * d * d + 2 * conv_kernel_size * d * conv_group_size + 2 * d * d
    ffn = 2 * d * i + 2 * i * d // num_groups + 2 * d * d
    attention = 8 * d * d + 4 * seq_len * d
    return conv + 2 * ffn + attention


def model_flops_per_token(kind, config, seq_len):
    """Forward FLOPs per token of a whole encoder.

    Args:
        kind: "bert", "convbert" or "groupbert".
        config: a backbone config dict (the keys of this library's presets / keras-hub's
            `BertBackbone`: num_layers, hidden_dim, intermediate_dim, num_heads, ...).
        seq_len: sequence length `T`.

    Returns:
        FLOPs (an int) per token of one forward pass. A training step is counted as 3x this
        (backward = 2x forward, the usual convention).
    """
    d, i, layers = config["hidden_dim"], config["intermediate_dim"], config["num_layers"]
    if kind == "bert":
        per_layer = bert_layer_flops(d, i, seq_len)
    elif kind == "convbert":
        per_layer = convbert_layer_flops(
            d, i, config["num_heads"], seq_len, config.get("head_ratio", 2),
            config.get("conv_kernel_size", 9), config.get("num_groups", 1),
        )
    elif kind == "groupbert":
        per_layer = groupbert_layer_flops(
            d, i, seq_len, config.get("num_groups", 4), config.get("conv_kernel_size", 7),
            config.get("conv_group_size", 16),
        )
    else:
        raise ValueError(f"Unknown model kind {kind!r}; expected bert, convbert or groupbert.")
    embedding_dim = config.get("embedding_dim") or d
    project = 2 * embedding_dim * d if embedding_dim != d else 0
    return layers * per_layer + project
