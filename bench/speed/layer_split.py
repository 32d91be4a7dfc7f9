"""Per-sublayer forward time of one ConvBERT layer against one keras-hub BERT layer, under XLA.

Each sublayer is compiled on its own (`jit_compile=True`) and timed on its real input shape, so
the split shows which part of the layer the time goes to: the span convolution and the grouped
dense must not cost more than their FLOPs share.
"""

import numpy as np


def _compiled(fn):
    import tensorflow as tf

    compiled = tf.function(fn, jit_compile=True)
    return lambda: compiled().numpy()


def sublayer_fns(hidden_dim=768, num_heads=12, intermediate_dim=3072, num_groups=1,
                 batch_size=8, seq_len=128, seed=0):
    """Builds the timed callables: name -> (callable, forward FLOPs of one call).

    ConvBERT sublayers are those of a `ConvBertLayer` of the given size; `bert_layer` is a
    keras-hub `TransformerEncoder` of BERT's configuration (exact GELU, epsilon 1e-12).
    """
    import keras
    import tensorflow as tf
    from keras_hub.layers import TransformerEncoder

    from bench.speed.flops import bert_layer_flops, convbert_layer_flops
    from convbert_tf.layers import ConvBertLayer

    keras.utils.set_random_seed(seed)
    x = tf.constant(np.random.default_rng(seed).standard_normal(
        (batch_size, seq_len, hidden_dim)).astype("float32"))
    mask = tf.ones((batch_size, seq_len), "int32")
    tokens = batch_size * seq_len
    layer = ConvBertLayer(hidden_dim, num_heads, intermediate_dim, num_groups=num_groups,
                          dropout=0.1)
    layer.build(x.shape)
    attention, span = layer.attention, layer.attention.span_conv
    a, n, k = attention.attention_dim, attention.num_mixed_heads, attention.conv_kernel_size
    query = attention.query_dense(x)
    mixed = attention(x, padding_mask=mask)
    hidden = layer.intermediate_dense(x)
    d, i, t, g = hidden_dim, intermediate_dim, seq_len, num_groups

    bert = TransformerEncoder(intermediate_dim, num_heads, dropout=0.1,
                              activation=lambda v: keras.activations.gelu(v, approximate=False),
                              layer_norm_epsilon=1e-12)
    bert.build(x.shape)

    fns = {
        "convbert_layer": (lambda: layer(x, padding_mask=mask),
                           convbert_layer_flops(d, i, num_heads, t, num_groups=g)),
        "mixed_attention": (lambda: attention(x, padding_mask=mask),
                            6 * d * a + 4 * t * a + 2 * k * d + 4 * d * a + 2 * a * n * k
                            + 2 * k * a),
        "self_attention_heads_qkv": (
            lambda: attention(x, padding_mask=mask)[..., :a], 6 * d * a + 4 * t * a),
        "span_conv": (lambda: span(x, query), 2 * k * d + 4 * d * a + 2 * a * n * k + 2 * k * a),
        "span_conv.key_conv_shift_and_sum": (lambda: span.separable_key_conv(x),
                                             2 * k * d + 2 * d * a),
        # The same weights through Keras's SeparableConv1D (what the layer called before).
        "span_conv.key_conv_keras_separable_conv1d": (lambda: span.key_conv(x),
                                                      2 * k * d + 2 * d * a),
        "attention_output_dense": (lambda: layer.attention_output_dense(mixed), 4 * a * d),
        "ffn_up": (lambda: layer.intermediate_dense(x), 2 * d * i // g),
        "ffn_down": (lambda: layer.output_dense(hidden), 2 * d * i // g),
        "bert_layer": (lambda: bert(x, padding_mask=mask), bert_layer_flops(d, i, t)),
    }
    return {name: (_compiled(fn), flops * tokens) for name, (fn, flops) in fns.items()}


def layer_split(repeats=5, **kwargs):
    """Times every sublayer (round-robin) and returns name -> {median_s, gflops_per_s, ...}."""
    from bench.speed.timing import time_round_robin

    fns = sublayer_fns(**kwargs)
    results = time_round_robin({name: fn for name, (fn, _) in fns.items()}, repeats, warmup=2)
    for name, (_, flops) in fns.items():
        results[name]["gflop"] = flops / 1e9
        results[name]["gflop_per_s"] = flops / 1e9 / results[name]["median_s"]
    layer_time = results["convbert_layer"]["median_s"]
    for result in results.values():
        result["fraction_of_convbert_layer"] = result["median_s"] / layer_time
    return results
