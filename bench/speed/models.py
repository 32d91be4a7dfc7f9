"""The benchmarked models and their timed callables (Keras on TensorFlow, and HF PyTorch).

Every model gets the same two workloads on the same int32 inputs:

* forward: `sequence_output` of the backbone, inference mode;
* train step: backbone (training mode, dropout on) -> first token -> Dropout(0.1) ->
  Dense(2) -> softmax cross-entropy -> gradients of every trainable weight -> AdamW update.
"""

import dataclasses

import numpy as np

BERT_BASE = {"vocabulary_size": 30522, "num_layers": 12, "num_heads": 12, "hidden_dim": 768,
             "intermediate_dim": 3072, "max_sequence_length": 512}

# --quick: tiny configs of the same architectures, for a smoke test.
TINY = {"vocabulary_size": 1000, "num_layers": 2, "num_heads": 4, "hidden_dim": 64,
        "intermediate_dim": 128, "max_sequence_length": 128}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One benchmarked model.

    Attributes:
        kind: FLOP formula family: "convbert", "groupbert" or "bert".
        framework: "keras" (this library / keras-hub) or "torch" (Hugging Face transformers).
        preset: this library's preset name (None for the BERT / HF models).
        label: human-readable name for the table and the chart.
    """

    kind: str
    framework: str
    preset: str | None
    label: str


MODELS = {
    "convbert_small": ModelSpec("convbert", "keras", "conv_bert_small_en", "ConvBERT small"),
    "convbert_medium_small": ModelSpec("convbert", "keras", "conv_bert_medium_small_en",
                                       "ConvBERT medium-small"),
    "convbert_base": ModelSpec("convbert", "keras", "conv_bert_base_en", "ConvBERT base"),
    "groupbert_base": ModelSpec("groupbert", "keras", "group_bert_base_en", "GroupBERT base"),
    "bert_base": ModelSpec("bert", "keras", None, "keras-hub BERT base"),
    "hf_convbert_base": ModelSpec("convbert", "torch", "conv_bert_base_en",
                                  "HF PyTorch ConvBERT base"),
}


def torch_available():
    """True when `torch` and `transformers` import (the `bench` extra)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return False
    return True


def model_config(name, quick=False):
    """The architecture config (this library's / keras-hub's keys) of a benchmarked model."""
    from convbert_tf.models.presets import CONVBERT_PRESETS, GROUPBERT_PRESETS

    spec = MODELS[name]
    if spec.kind == "bert":
        config = dict(BERT_BASE)
    elif spec.kind == "convbert":
        config = dict(CONVBERT_PRESETS[spec.preset]["config"])
    else:
        config = dict(GROUPBERT_PRESETS[spec.preset]["config"])
    if quick:
        projected = spec.kind == "convbert" and config["embedding_dim"] != config["hidden_dim"]
        config.update(TINY)
        if spec.kind == "convbert":
            # Keep small / medium-small's embeddings_project (E != D) in the tiny version.
            config["embedding_dim"] = 32 if projected else TINY["hidden_dim"]
        if spec.kind == "groupbert":
            config["intermediate_dim"] = 4 * TINY["hidden_dim"]
    return config


def make_inputs(batch_size, seq_len, vocabulary_size, seed=0):
    """Random token ids, segment ids (0) and an all-ones padding mask, plus binary labels."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000 % vocabulary_size, vocabulary_size, (batch_size, seq_len))
    ids = ids.astype("int32")
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids),
              "padding_mask": np.ones_like(ids)}
    labels = rng.integers(0, 2, (batch_size,)).astype("int32")
    return inputs, labels


def build_keras_backbone(name, config, dtype="float32"):
    """The Keras backbone of a benchmarked model, random weights."""
    spec = MODELS[name]
    if spec.kind == "bert":
        import keras_hub

        return keras_hub.models.BertBackbone(dropout=0.1, dtype=dtype, **config)
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

    cls = ConvBertBackbone if spec.kind == "convbert" else GroupBertBackbone
    return cls(dtype=dtype, **config)


def keras_workloads(name, config, batch_size, seq_len, dtype="float32",
                    kinds=("forward", "train")):
    """Timed callables `{kind: fn}` of a Keras model; each call blocks until done.

    Kinds: "forward" and "train" run under XLA (`jit_compile=True`); "forward_no_xla" and
    "train_no_xla" are the same functions on the same weights and optimizer without it.
    """
    import keras
    import tensorflow as tf
    from keras import ops

    backbone = build_keras_backbone(name, config, dtype)
    inputs, labels = make_inputs(batch_size, seq_len, config["vocabulary_size"])
    inputs = {key: tf.constant(value) for key, value in inputs.items()}
    labels = tf.constant(labels)

    def forward(x):
        return backbone(x, training=False)["sequence_output"]

    step = None
    if any(kind.startswith("train") for kind in kinds):
        dropout = keras.layers.Dropout(0.1, dtype=dtype)
        head = keras.layers.Dense(2, dtype=dtype, name="bench_head")
        head.build((None, config["hidden_dim"]))
        variables = backbone.trainable_variables + head.trainable_variables
        optimizer = keras.optimizers.AdamW(learning_rate=1e-5, weight_decay=0.01)
        optimizer.build(variables)

        def step(x, y):
            with tf.GradientTape() as tape:
                first = backbone(x, training=True)["sequence_output"][:, 0, :]
                logits = ops.cast(head(dropout(first, training=True)), "float32")
                loss = ops.mean(keras.losses.sparse_categorical_crossentropy(
                    y, logits, from_logits=True))
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return loss

    fns = {}
    for kind in kinds:
        xla = not kind.endswith("_no_xla")
        if kind.startswith("forward"):
            compiled = tf.function(forward, jit_compile=xla)
            fns[kind] = lambda f=compiled: f(inputs).numpy()
        else:
            compiled = tf.function(step, jit_compile=xla)
            fns[kind] = lambda f=compiled: f(inputs, labels).numpy()
    return fns


def torch_workloads(config, batch_size, seq_len, threads, workloads=("forward", "train")):
    """Timed callables of Hugging Face's PyTorch `ConvBertModel` with the same config."""
    import torch
    import transformers

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    hf_config = transformers.ConvBertConfig(
        vocab_size=config["vocabulary_size"], hidden_size=config["hidden_dim"],
        num_hidden_layers=config["num_layers"], num_attention_heads=config["num_heads"],
        intermediate_size=config["intermediate_dim"],
        embedding_size=config.get("embedding_dim") or config["hidden_dim"],
        head_ratio=config.get("head_ratio", 2), conv_kernel_size=config.get("conv_kernel_size", 9),
        num_groups=config.get("num_groups", 1), max_position_embeddings=512,
    )
    model = transformers.ConvBertModel(hf_config)
    inputs, labels = make_inputs(batch_size, seq_len, config["vocabulary_size"])
    kwargs = {"input_ids": torch.from_numpy(inputs["token_ids"]).long(),
              "token_type_ids": torch.from_numpy(inputs["segment_ids"]).long(),
              "attention_mask": torch.from_numpy(inputs["padding_mask"]).long()}
    labels = torch.from_numpy(labels).long()
    fns = {}
    if "forward" in workloads:
        def forward():
            model.eval()
            with torch.inference_mode():
                return model(**kwargs).last_hidden_state.sum().item()

        fns["forward"] = forward
    if "train" in workloads:
        dropout = torch.nn.Dropout(0.1)
        head = torch.nn.Linear(config["hidden_dim"], 2)
        optimizer = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()),
                                      lr=1e-5, weight_decay=0.01)

        def train():
            model.train()
            optimizer.zero_grad(set_to_none=True)
            first = model(**kwargs).last_hidden_state[:, 0]
            loss = torch.nn.functional.cross_entropy(head(dropout(first)), labels)
            loss.backward()
            optimizer.step()
            return loss.item()

        fns["train"] = train
    return fns


def workloads(name, config, batch_size, seq_len, threads, dtype="float32",
              kinds=("forward", "train")):
    """Dispatches to `keras_workloads` or `torch_workloads` (which knows no "_no_xla" kinds)."""
    if MODELS[name].framework == "torch":
        return torch_workloads(config, batch_size, seq_len, threads, kinds)
    return keras_workloads(name, config, batch_size, seq_len, dtype, kinds)
