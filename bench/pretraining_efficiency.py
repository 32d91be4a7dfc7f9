"""The papers' claim in miniature: pretrain ConvBERT, a BERT baseline and GroupBERT for the same
wall-clock budget on the same corpus, then fine-tune each (and a from-scratch copy of each) on
SST-2 (1,000 / 5,000 / all labels), CoLA (MCC) and RTE, over several seeds.

Corpus (built here, never from dev sets): the SST-2 train file reduced to its full sentences
(a line that is a substring of a longer line is one of its parse-tree phrases: 6,884 of 66,978
distinct lines remain), the CoLA train sentences and the RTE train sentence pairs, all from
`examples/data/`; `--corpus FILE...` adds more UTF-8 text (e.g. Debian's `wordnet-base` glosses).

Same width, depth and pretrainer for all three discriminators (hidden 128, 4 heads, 2 layers,
FFN 512, ELECTRA with the `small_budget` recipe); the BERT baseline is keras-hub's
`TransformerEncoder` stack (standard self-attention, post-LN) on the same `BertEmbedding`.
Steps per model = its budget / its measured seconds per step (so each gets equal training
time, not equal steps). Fine-tuning: AdamW at 1e-3 with 10% warmup and linear decay, on the
token mean, batches grouped by length and cut to their longest example (rounded up to 16), XLA;
per-task epochs and batch sizes in `TASKS`. Writes `bench/results/pretraining_efficiency.json`
and `.png`.

    python bench/pretraining_efficiency.py                       # the full run (<= 90 min)
    python bench/pretraining_efficiency.py --quick               # smoke test (~1 min)
    python bench/pretraining_efficiency.py --pretrain-minutes 3 --tasks sst2_1k,cola,rte
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "examples", "data")
# name: (GLUE task, data dir, train examples or None, epochs, batch size, metric). Larger
# batches for the larger sets: with length-grouped batches of ~16 tokens a step's cost is
# mostly fixed, so 128 x 16 tokens costs about what 32 x 64 does.
TASKS = {
    "sst2_1k": ("sst2", "sst2", 1000, 10, 32, "accuracy"),
    "sst2_5k": ("sst2", "sst2", 5000, 3, 32, "accuracy"),
    "sst2_all": ("sst2", "sst2", None, 1, 128, "accuracy"),
    "cola": ("cola", "cola", None, 3, 64, "matthews_correlation"),
    "rte": ("rte", "rte", None, 3, 32, "accuracy"),
}
MODELS = ("convbert", "bert", "groupbert")


def build_corpus(path, extra_files=()):
    from convbert_tf.training.glue_data import get_task, read_tsv
    from convbert_tf.training.pretraining_data import full_sentences

    sst2 = read_tsv(get_task("sst2"), os.path.join(DATA, "sst2", "train.tsv"))
    cola = read_tsv(get_task("cola"), os.path.join(DATA, "cola", "train.tsv"))
    rte = read_tsv(get_task("rte"), os.path.join(DATA, "rte", "train.tsv"))
    parts = {
        "sst2_train_full_sentences": full_sentences(s.strip() for s in sst2.texts[0]),
        "cola_train": [s.strip() for s in cola.texts[0]],
        "rte_train_pairs": [s.strip() for pair in zip(*rte.texts) for s in pair],
    }
    for extra in extra_files:
        with open(extra, encoding="utf-8") as f:
            parts[os.path.basename(extra)] = [line.strip() for line in f if line.strip()]
    with open(path, "w", encoding="utf-8") as f:
        for lines in parts.values():
            f.writelines(line + "\n" for line in lines if line)
    return {name: {"lines": len(lines), "words": sum(len(s.split()) for s in lines)}
            for name, lines in parts.items()}


def bert_baseline_class():
    """A BERT backbone (keras-hub `TransformerEncoder`s) that can share a `BertEmbedding`."""
    import keras
    import keras_hub

    from convbert_tf.layers import BertEmbedding

    class BertBaselineBackbone(keras_hub.models.Backbone):
        def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim,
                     intermediate_dim, embedding_dim=None, dropout=0.1,
                     max_sequence_length=512, num_segments=2, embeddings=None,
                     initializer_range=None, **kwargs):
            embedding_dim = embedding_dim or hidden_dim
            def init():  # a fresh initializer per layer (an instance must not be shared)
                return ("glorot_uniform" if initializer_range is None
                        else keras.initializers.TruncatedNormal(stddev=initializer_range))

            self.embeddings = embeddings or BertEmbedding(
                vocabulary_size, embedding_dim, max_sequence_length, num_segments, dropout,
                layer_norm_epsilon=1e-12, name="embeddings",
                embeddings_initializer=None if initializer_range is None else init())
            self.token_embedding = self.embeddings.token_embedding
            inputs = {name: keras.Input((None,), dtype="int32", name=name)
                      for name in ("token_ids", "segment_ids", "padding_mask")}
            x = self.embeddings(inputs["token_ids"], inputs["segment_ids"])
            if embedding_dim != hidden_dim:
                x = keras.layers.Dense(hidden_dim, name="embeddings_project")(x)
            for i in range(num_layers):
                x = keras_hub.layers.TransformerEncoder(
                    intermediate_dim, num_heads, dropout=dropout, activation="gelu",
                    layer_norm_epsilon=1e-12, kernel_initializer=init(),
                    name=f"transformer_layer_{i}",
                )(x, padding_mask=inputs["padding_mask"])
            super().__init__(inputs=inputs, outputs={"sequence_output": x,
                                                     "pooled_output": x[:, 0]}, **kwargs)
            self.vocabulary_size, self.num_layers, self.num_heads = (
                vocabulary_size, num_layers, num_heads)
            self.hidden_dim, self.intermediate_dim = hidden_dim, intermediate_dim
            self.embedding_dim, self.dropout = embedding_dim, dropout
            self.max_sequence_length, self.num_segments = max_sequence_length, num_segments
            self.initializer_range = initializer_range

        def get_config(self):
            return {**super().get_config(), **{k: getattr(self, k) for k in (
                "vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim",
                "embedding_dim", "dropout", "max_sequence_length", "num_segments",
                "initializer_range")}}

    return BertBaselineBackbone


def make_backbone(kind, vocabulary_size, sequence_length, width=128, layers=2, heads=4,
                  embeddings=None, scale=1.0, initializer_range=None):
    """A discriminator (or, with `scale`, generator) of the benchmark; `initializer_range`
    None keeps each model's default (ConvBERT / GroupBERT: truncated normal 0.02; the BERT
    baseline's keras-hub layers: Glorot)."""
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

    hidden = int(width * scale)
    common = dict(vocabulary_size=vocabulary_size, num_layers=layers,
                  num_heads=max(1, int(heads * scale)), hidden_dim=hidden,
                  intermediate_dim=4 * hidden, embedding_dim=width,
                  max_sequence_length=sequence_length, embeddings=embeddings)
    if initializer_range is not None:
        common["initializer_range"] = initializer_range
    if kind == "convbert":
        return ConvBertBackbone(**common, conv_kernel_size=9)
    if kind == "groupbert":
        return GroupBertBackbone(**common, num_groups=2, conv_group_size=16)
    return bert_baseline_class()(**common)


def make_generator(kind, discriminator, sequence_length):
    """The generator `pretrain` gets: None (the library builds ConvBERT's and GroupBERT's) or,
    for the BERT baseline, a half-width BERT sharing the discriminator's embeddings."""
    if kind != "bert":
        return None
    return make_backbone(kind, discriminator.vocabulary_size, sequence_length,
                         embeddings=discriminator.embeddings, scale=0.5)


def pretrain_run(kind, corpus, out, tokenizer, args, steps, block):
    """`steps` pretraining steps of a fresh `kind` discriminator (seeded), logged and
    checkpointed every `block`; returns `pretrain`'s (pretrainer, history)."""
    import keras

    from convbert_tf.training.pretraining import pretrain

    keras.utils.set_random_seed(args.seed)
    disc = make_backbone(kind, tokenizer.vocabulary_size(), args.sequence_length)
    generator = make_generator(kind, disc, args.sequence_length)
    return pretrain(disc, corpus, out, tokenizer, steps=steps, checkpoint_every=block,
                    sequence_length=args.sequence_length, seed=args.seed,
                    generator=generator, verbose=0, batch_size=args.pretrain_batch_size,
                    **({} if args.temperature is None else {"temperature": args.temperature}),
                    jit_compile=not args.quick)


def seconds_per_pretraining_step(kind, corpus, workdir, tokenizer, args):
    """The calibration that sets each model's step count: 2 x `calibration_steps` steps, the
    second half timed (the first pays for XLA compilation)."""
    _, history = pretrain_run(kind, corpus, os.path.join(workdir, f"{kind}_cal"), tokenizer,
                              args, 2 * args.calibration_steps, args.calibration_steps)
    return (history[-1]["seconds"] - history[0]["seconds"]) / args.calibration_steps


def pretrain_model(kind, corpus, workdir, tokenizer, args):
    """Calibrates seconds/step, then pretrains for `--pretrain-minutes` of training time."""
    block = args.log_every
    if args.quick:  # no calibration run: a fixed handful of steps
        seconds_per_step, steps = float("nan"), block
    else:
        seconds_per_step = seconds_per_pretraining_step(kind, corpus, workdir, tokenizer, args)
        steps = max(block, int(args.pretrain_minutes * 60 / seconds_per_step) // block * block)
    print(f"[{kind}] {seconds_per_step:.3f} s/step -> {steps} steps", flush=True)
    pretrainer, history = pretrain_run(kind, corpus, os.path.join(workdir, kind), tokenizer,
                                       args, steps, block)
    return pretrainer.backbone, {"seconds_per_step_calibrated": round(seconds_per_step, 4)
                                 if seconds_per_step == seconds_per_step else None,
                                 "steps": steps, "final": history[-1], "history": history}


def encode(tokenizer, sequence_length, texts, labels):
    """Tokenizes a split once (every seed and model reuses it): NumPy features padded to
    `sequence_length`, labels, and each example's length in tokens."""
    import numpy as np
    import tensorflow as tf

    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor

    preprocessor = ConvBertTextClassifierPreprocessor(tokenizer, sequence_length)
    chunks = []
    for start in range(0, len(labels), 1024):
        part = tuple(tf.constant(list(t[start:start + 1024])) for t in texts)
        chunks.append({k: np.asarray(v) for k, v in
                       preprocessor(part[0] if len(part) == 1 else part).items()})
    features = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    lengths = features["padding_mask"].astype("int64").sum(axis=1)
    return features, np.asarray(labels), lengths


def length_grouped(split, batch_size, rng=None, bucket=16, group=50):
    """A tf.data pipeline of `split` (from `encode`) whose batches hold examples of similar
    length, each cut to its longest example rounded up to `bucket` tokens.

    Why: SST-2 and CoLA average 13 and 11 tokens, so a batch padded to 64 spends ~5x the
    compute on padding. With `rng` (training) the examples are shuffled, sorted by length
    within groups of `group` batches, and the batches shuffled again, anew every epoch (the
    "group by length" sampler of common fine-tuning scripts); without it, the split is
    sorted by length (evaluation: order-free metrics)."""
    import numpy as np
    import tensorflow as tf

    features, labels, lengths = split
    full = next(iter(features.values())).shape[1]

    def batches():
        if rng is None:
            order = np.argsort(lengths, kind="stable")
            chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        else:
            order = rng.permutation(len(labels))
            chunks = []
            for start in range(0, len(order), group * batch_size):
                part = order[start:start + group * batch_size]
                part = part[np.argsort(-lengths[part], kind="stable")]
                chunks += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
            # Full batches only: XLA compiles each new shape, and one ragged batch per epoch
            # would double the shapes (the examples it drops differ every epoch).
            chunks = [chunks[i] for i in rng.permutation(len(chunks))
                      if len(chunks[i]) == batch_size]
        for chunk in chunks:
            cut = min(full, -(-int(lengths[chunk].max()) // bucket) * bucket)
            yield {k: v[chunk, :cut] for k, v in features.items()}, labels[chunk]

    signature = ({k: tf.TensorSpec((None, None), tf.as_dtype(v.dtype))
                  for k, v in features.items()}, tf.TensorSpec((None,), tf.as_dtype(labels.dtype)))
    return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(2)


def build_classifier(kind, vocabulary_size, sequence_length, pooling, seed):
    """The fine-tuning model (uncompiled): a fresh `kind` backbone seeded with `seed`, its
    `pooling` sentence vector, dropout 0.1 and a 2-way head (SST-2, CoLA and RTE are all
    binary). Returns `(model, backbone, head)`."""
    import keras

    from convbert_tf.tasks.heads import sentence_features

    keras.utils.set_random_seed(seed)
    backbone = make_backbone(kind, vocabulary_size, sequence_length)
    inputs, features = sentence_features(backbone, pooling)
    head = keras.layers.Dense(2)
    return keras.Model(inputs, head(keras.layers.Dropout(0.1)(features))), backbone, head


class FineTuner:
    """Fine-tunes one model kind (pretrained or from scratch) on every task and seed with ONE
    compiled classifier: built and traced once, then for each run its weights are set (the
    pretrained backbone or the seed's fresh initialisation; the seed's fresh head) and its
    optimizer state and step counter zeroed. A fresh model per run cost ~8 s of building and
    tracing, ~12 minutes over the full benchmark's 90 runs; XLA compiles each bucket length
    once per model instead of once per run.

    Args:
        kind: "convbert", "bert" or "groupbert".
        tokenizer: the benchmark's `ConvBertTokenizer`.
        args: the parsed command line (sequence length, learning rate, pooling, seed).
        splits: `{task: (train, dev)}` from `encode`.
    """

    def __init__(self, kind, tokenizer, args, splits):
        import keras

        from convbert_tf.training.metrics import MatthewsCorrelation

        self.kind, self.tokenizer, self.args, self.splits = kind, tokenizer, args, splits
        self.fresh = {}
        self.model, self.backbone, self.head = self._classifier(args.seed)
        # The schedule reads its lengths from variables, so one traced step serves every task.
        self.total_steps = keras.Variable(1.0, trainable=False, name="total_steps")
        self.warmup_steps = keras.Variable(1.0, trainable=False, name="warmup_steps")
        peak, total, warmup = args.finetune_learning_rate, self.total_steps, self.warmup_steps

        class Schedule(keras.optimizers.schedules.LearningRateSchedule):
            """WarmupLinearDecay's shape, its lengths read from variables."""

            def __call__(self, step):
                from keras import ops

                step = ops.cast(step, "float32")
                return (peak * ops.minimum(1.0, step / warmup)
                        * ops.maximum(0.0, 1.0 - step / total))

        self.optimizer = keras.optimizers.AdamW(Schedule(), weight_decay=0.01, epsilon=1e-6)
        self.model.compile(self.optimizer,
                           keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy", MatthewsCorrelation()],
                           # XLA compiles once per bucket length (4 of them) and halves
                           # ConvBERT's step; --quick runs eagerly, as its handful of
                           # batches cost less than tracing them.
                           jit_compile=not args.quick, run_eagerly=args.quick,
)

    def _classifier(self, seed):
        model, backbone, head = build_classifier(
            self.kind, self.tokenizer.vocabulary_size(), self.args.sequence_length,
            self.args.pooling, seed)
        self.fresh[seed] = (backbone.get_weights(), head.get_weights())
        return model, backbone, head

    def run(self, weights, task_name, seed):
        """Fine-tunes from `weights` (pretrained backbone weights, or None: from scratch) on
        `task_name` with `seed`; returns the dev score."""
        import keras
        import numpy as np

        _, _, limit, epochs, batch_size, metric = TASKS[task_name]
        if seed not in self.fresh:
            self._classifier(seed)  # only its initial weights are kept
        backbone_weights, head_weights = self.fresh[seed]
        self.backbone.set_weights(backbone_weights if weights is None else weights)
        self.head.set_weights(head_weights)
        for variable in self.optimizer.variables:  # incl. the step counter
            variable.assign(np.zeros(variable.shape, variable.dtype))
        train, dev = self.splits[task_name]
        order = np.random.default_rng(seed).permutation(len(train[1]))[:limit]
        train = tuple({k: v[order] for k, v in x.items()} if isinstance(x, dict) else x[order]
                      for x in train)
        steps = epochs * (len(order) // batch_size)
        self.total_steps.assign(float(steps))
        self.warmup_steps.assign(float(max(1, steps // 10)))
        keras.utils.set_random_seed(seed)
        self.model.fit(length_grouped(train, batch_size, np.random.default_rng(seed)),
                       epochs=epochs, verbose=0)
        result = self.model.evaluate(length_grouped(dev, 128), verbose=0, return_dict=True)
        return float(result[metric])


def task_splits(tokenizer, tasks, args):
    """`{task: (train, dev)}` encoded once for all models and seeds (CoLA: out-of-domain dev)."""
    from convbert_tf.training.glue_data import get_task, read_tsv

    splits = {}
    for name in tasks:
        glue_name, folder = TASKS[name][:2]
        task = get_task(glue_name)
        train = read_tsv(task, os.path.join(DATA, folder, "train.tsv"))
        dev_file = "dev_out_of_domain.tsv" if glue_name == "cola" else "dev.tsv"
        dev = read_tsv(task, os.path.join(DATA, folder, dev_file), max_examples=args.dev_limit)
        splits[name] = tuple(encode(tokenizer, args.sequence_length, s.texts, s.labels)
                             for s in (train, dev))
    return splits


def frozen_probe(backbones, tokenizer, args, sizes=(1000, 5000)):
    """SST-2 dev accuracy of a ridge classifier on frozen features (first token, token mean)
    of each of `backbones` (`{name: backbone}`): what the weights know about sentiment before
    any fine-tuning. The best of four ridge strengths on dev, so an upper bound for every row
    alike. Returns `{name: {"<pooling>_<labels>": accuracy}}`."""
    import numpy as np
    import tensorflow as tf

    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
    from convbert_tf.training.glue_data import get_task, read_tsv

    task = get_task("sst2")
    train = read_tsv(task, os.path.join(DATA, "sst2", "train.tsv"))
    dev = read_tsv(task, os.path.join(DATA, "sst2", "dev.tsv"), max_examples=args.dev_limit)
    order = np.random.default_rng(args.seed).permutation(len(train))[:max(sizes)]
    preprocessor = ConvBertTextClassifierPreprocessor(tokenizer, args.sequence_length)

    def features(backbone, texts):
        first, mean = [], []
        for start in range(0, len(texts), 256):
            x = preprocessor(tf.constant(texts[start:start + 256]))
            states = np.asarray(backbone(x, training=False)["sequence_output"], "float64")
            mask = np.asarray(x["padding_mask"], "float64")[:, :, None]
            first.append(states[:, 0])
            mean.append((states * mask).sum(1) / mask.sum(1))
        return {"first_token": np.concatenate(first), "mean": np.concatenate(mean)}

    train_texts = [train.texts[0][i] for i in order]
    train_y, dev_y = 2.0 * train.labels[order] - 1.0, np.asarray(dev.labels)
    reports = {}
    for name, backbone in backbones.items():
        train_x, dev_x = features(backbone, train_texts), features(backbone, list(dev.texts[0]))
        report = reports[name] = {}
        for pooling in ("first_token", "mean"):
            for n in sizes:
                x = train_x[pooling][:n]
                mu, sd = x.mean(0), x.std(0) + 1e-6
                a, b = (x - mu) / sd, (dev_x[pooling] - mu) / sd
                best = 0.0
                for strength in (1.0, 10.0, 100.0, 1000.0):
                    w = np.linalg.solve(a.T @ a + strength * np.eye(a.shape[1]),
                                        a.T @ train_y[:n])
                    best = max(best, float(((b @ w > 0) == (dev_y == 1)).mean()))
                report[f"{pooling}_{n}"] = round(best, 4)
    return reports


def commit_stamp():
    from serving_common import commit_stamp as stamp

    return stamp()


def machine():
    # One CPU description for every benchmark (bench/serving_common.py), in this file's keys.
    from serving_common import cpu_info

    info = cpu_info()
    return {"cpu": info["cpu_model"], "flags": info["cpu_flags"], "cores": os.cpu_count(),
            "python": platform.python_version()}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for kind, run in results["pretraining"].items():
        seconds = [r["seconds"] for r in run["history"]]
        axes[0].plot(seconds, [r["rtd_loss"] for r in run["history"]], label=kind)
        axes[1].plot(seconds, [r["discriminator_recall"] for r in run["history"]], label=kind)
    axes[0].set(title="RTD loss", xlabel="training seconds")
    axes[1].set(title="discriminator recall (replaced)", xlabel="training seconds")
    tasks = list(results["tasks"])
    width = 0.8 / (2 * len(results["pretraining"]))
    i = 0
    for kind in results["pretraining"]:
        for init in ("pretrained", "scratch"):
            # A stopped run's unfinished tasks are blank bars.
            done = results["downstream"].get(kind, {}).get(init, {})
            means = [done[t]["mean"] if t in done else float("nan") for t in tasks]
            stds = [done[t]["std"] if t in done else 0.0 for t in tasks]
            axes[2].bar([j + i * width for j in range(len(tasks))], means, width, yerr=stds,
                        label=f"{kind} {init}", hatch="" if init == "pretrained" else "//")
            i += 1
    axes[2].set_xticks([j + 0.4 - width / 2 for j in range(len(tasks))], tasks)
    axes[2].set(title="dev score (mean ± std over seeds)")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def save(results, started, path, previous=None):
    """Writes `results` (with the elapsed seconds), merged into `previous` when given
    (`--merge`); called after every task, so that a stopped run keeps what it finished."""
    results["seconds"] = round(time.time() - started, 1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(results if previous is None else merge_results(previous, results), f,
                  indent=1)
    os.replace(path + ".tmp", path)  # never a half-written file


# Arguments a merged run may change: which models it runs and where it writes.
PER_RUN_ARGS = ("models", "output", "merge", "plot_from")


def merge_results(previous, current):
    """`previous` (a results file of this script) with the models of `current` added or
    replaced: a benchmark run model by model, e.g. a model added after the others finished.

    Refuses (ValueError naming the field) unless both runs measured the same thing on the
    same kind of machine: every argument but `PER_RUN_ARGS`, the tasks, the recipe, the
    corpus, and the CPU model, flags and core count. Each run's models, commit and seconds
    are kept in `runs`; the top-level `seconds` is their sum (the whole benchmark's time).
    """
    for field in ("machine", "tasks", "recipe", "corpus"):
        if previous.get(field) != current[field]:
            raise ValueError(f"--merge: the results file's {field!r} is "
                             f"{previous.get(field)!r}, this run's {current[field]!r}")
    for name, value in current["args"].items():
        if name not in PER_RUN_ARGS and previous["args"].get(name) != value:
            raise ValueError(f"--merge: the results file was run with {name}="
                             f"{previous['args'].get(name)!r}, this run with {value!r}")
    runs = previous.get("runs") or [{  # a file written before `runs` existed: one run
        "models": list(previous["pretraining"]), "commit": previous.get("commit"),
        "seconds": previous.get("seconds")}]
    # A model run again leaves its earlier run (and that run, once it holds no model).
    kept = [{**run, "models": [m for m in run["models"] if m not in current["pretraining"]]}
            for run in runs]
    merged = {**previous, "runs": [run for run in kept if run["models"]] + [
        {"models": list(current["pretraining"]), "commit": current.get("commit"),
         "seconds": current.get("seconds")}]}
    for section in ("pretraining", "downstream", "probe"):
        merged[section] = {**previous[section], **current[section]}
    merged["args"] = {**previous["args"], "models": ",".join(merged["pretraining"])}
    merged["commit"] = current.get("commit")
    merged["seconds"] = round(sum(run["seconds"] or 0.0 for run in merged["runs"]), 1)
    return merged


def build_parser():
    """The command line (also the source of the defaults `pretraining_efficiency_profile.py`
    measures with)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--pretrain-minutes", type=float, default=7.0)
    parser.add_argument("--pretrain-batch-size", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=None,
                        help="the generator's sampling temperature (default: the recipe's)")
    parser.add_argument("--calibration-steps", type=int, default=10)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--finetune-learning-rate", type=float, default=1e-3)
    parser.add_argument("--pooling", default="mean", choices=("first_token", "pooled", "mean"),
                        help="the sentence vector the fine-tuned head reads (see "
                             "ConvBertTextClassifier); mean: a briefly pretrained "
                             "discriminator's first token carries no signal")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev-limit", type=int, default=None,
                        help="score on the first N dev examples only (smoke tests)")
    parser.add_argument("--corpus", nargs="*", default=[],
                        help="extra UTF-8 text files (one sentence per line)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: a few eager steps per model, one seed, 100-label "
                        "SST-2 (checks the pipeline, measures nothing)")
    parser.add_argument("--output", default=os.path.join(HERE, "results",
                                                         "pretraining_efficiency.json"))
    parser.add_argument("--merge", action="store_true",
                        help="add this run's models to the existing --output file (or "
                             "replace them there) instead of overwriting it; refused unless "
                             "every other argument, the corpus and the CPU match")
    parser.add_argument("--plot-from", metavar="JSON",
                        help="only redraw the chart of an existing results file (a stopped "
                             "run's partial one too) next to it, and exit")
    return parser


def main():
    parser = build_parser()
    args = parser.parse_args()
    if args.plot_from:
        with open(args.plot_from, encoding="utf-8") as f:
            plot(json.load(f), os.path.splitext(args.plot_from)[0] + ".png")
        return 0
    if args.quick:
        args.pretrain_minutes, args.seeds, args.calibration_steps = 0.05, 1, 2
        args.log_every, args.pretrain_batch_size, args.sequence_length = 4, 8, 32
        args.dev_limit = 64
        TASKS["sst2_100"] = ("sst2", "sst2", 100, 1, 32, "accuracy")
        args.tasks = "sst2_100"
    models = args.models.split(",")
    tasks = args.tasks.split(",")
    for name in tasks:
        if name not in TASKS:
            parser.error(f"--tasks: unknown {name!r}; expected some of {', '.join(TASKS)}")

    import keras
    import numpy as np

    from convbert_tf.preprocessing import ConvBertTokenizer
    from convbert_tf.training.pretraining import PRETRAINING_RECIPES

    started = time.time()
    tokenizer = ConvBertTokenizer()
    results = {"machine": machine(), "args": vars(args), "tasks": tasks,
               "pretraining": {}, "downstream": {}, "probe": {},
               "recipe": {"name": "small_budget", **PRETRAINING_RECIPES["small_budget"],
                          "batch_size": args.pretrain_batch_size,
                          "temperature": PRETRAINING_RECIPES["small_budget"]["temperature"]
                          if args.temperature is None else args.temperature}}
    results["commit"] = commit_stamp()
    previous = None
    if args.merge and os.path.exists(args.output):
        with open(args.output, encoding="utf-8") as f:
            previous = json.load(f)
    with tempfile.TemporaryDirectory() as workdir:
        corpus = os.path.join(workdir, "corpus.txt")
        results["corpus"] = build_corpus(corpus, args.corpus)
        print(f"corpus: {results['corpus']}", flush=True)
        if previous is not None:
            merge_results(previous, results)  # refuse a mismatch now, not after an hour
        splits = task_splits(tokenizer, tasks, args)
        for kind in models:
            backbone, info = pretrain_model(kind, corpus, workdir, tokenizer, args)
            results["pretraining"][kind] = info
            weights = backbone.get_weights()
            last = info["history"][-1]
            print(f"[{kind}] pretrained {info['steps']} steps: rtd_loss {last['rtd_loss']}, "
                  f"recall {last['discriminator_recall']}, precision "
                  f"{last['discriminator_precision']}, generator accuracy "
                  f"{last['generator_accuracy']}", flush=True)
            results["downstream"][kind] = {}
            # The same probe on a fresh initialisation: what pretraining added.
            keras.utils.set_random_seed(args.seed)
            fresh = make_backbone(kind, tokenizer.vocabulary_size(), args.sequence_length)
            sizes = (100,) if args.quick else (1000, 5000)
            results["probe"][kind] = frozen_probe(
                {"pretrained": backbone, "scratch": fresh}, tokenizer, args, sizes)
            print(f"[{kind}] frozen probe {results['probe'][kind]}", flush=True)
            tuner = FineTuner(kind, tokenizer, args, splits)
            for init, init_weights in (("pretrained", weights), ("scratch", None)):
                scores = results["downstream"][kind][init] = {}  # filled task by task
                for task in tasks:
                    began = time.time()
                    values = [tuner.run(init_weights, task, args.seed + s)
                              for s in range(args.seeds)]
                    scores[task] = {"mean": round(float(np.mean(values)), 4),
                                    "std": round(float(np.std(values)), 4),
                                    "values": [round(v, 4) for v in values],
                                    "seconds": round(time.time() - began, 1)}
                    print(f"[{kind}] {init:10s} {task:9s} {scores[task]['mean']:.4f} ± "
                          f"{scores[task]['std']:.4f} ({scores[task]['seconds']} s)", flush=True)
                    save(results, started, args.output, previous)
                scores["average"] = round(float(np.mean([scores[t]["mean"] for t in tasks])), 4)
                save(results, started, args.output, previous)
    if previous is not None:
        results = merge_results(previous, results)
    plot(results, os.path.splitext(args.output)[0] + ".png")
    print(json.dumps({k: {i: v.get("average") for i, v in d.items()}
                      for k, d in results["downstream"].items()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
