"""`pretrain`: ELECTRA pretraining of a discriminator on text files, resumable at any step.

What `convbert-tf pretrain`, `examples/pretrain_then_finetune.py` and
`bench/pretraining_efficiency.py` run. It streams `pretraining_dataset` (batch `i` a pure
function of `(corpus, seed, i)`), checkpoints every `checkpoint_every` steps with
`StepCheckpointer` (weights, optimizer, seed states; atomic; last `keep_checkpoints` kept) and,
when `output_dir` already holds a checkpoint of the same run, continues from it: a run killed
with SIGKILL and started again with the same arguments logs the same losses as one that was
never interrupted.
"""

import json
import os
import time

import keras

from convbert_tf.tasks.electra_pretrainer import ConvBertElectraPretrainer, pretraining_optimizer
from convbert_tf.training.pretraining_data import pretraining_dataset
from convbert_tf.training.step_checkpoint import StepCheckpoint, StepCheckpointer

#: Pretraining recipes. "small_budget" was chosen by measurement on a 2-core CPU (a 128-wide,
#: 2-layer discriminator, batch 64 x 64, minutes of training: docs/pretraining.md). "released"
#: is ConvBERT's / ELECTRA's own (base: lr 2e-4, batch 256, 1M steps, 10k warmup).
PRETRAINING_RECIPES = {
    "small_budget": {
        "learning_rate": 1e-2, "warmup_fraction": 0.1, "batch_size": 64,
        "mask_selection_rate": 0.15, "generator_fraction": "auto", "rtd_weight": 1.0,
        # 3: a flatter sampling distribution keeps rare-word replacements, the per-token cue
        # a short run's discriminator learns from (at 1.0 its recall stays at 0).
        "optimizer": "lamb", "short_sequence_rate": 0.1, "temperature": 3.0,
    },
    "released": {
        "learning_rate": 5e-4, "warmup_fraction": 0.01, "batch_size": 128,
        "mask_selection_rate": 0.15, "generator_fraction": "auto", "rtd_weight": 50.0,
        "optimizer": "adamw", "short_sequence_rate": 0.1, "temperature": 1.0,
    },
}


class _History(keras.callbacks.Callback):
    """Per-block metrics with the step and the wall time spent training (resume-aware)."""

    def __init__(self, records, elapsed):
        super().__init__()
        self.records = records
        self.elapsed = elapsed
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed += time.perf_counter() - self.started
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self.records.append({"step": step, "seconds": round(self.elapsed, 2),
                             **{k: round(float(v), 5) for k, v in (logs or {}).items()}})


def pretrain(discriminator, corpus, output_dir, tokenizer, *, steps=1000, sequence_length=128,
             recipe="small_budget", checkpoint_every=100, keep_checkpoints=3, seed=0,
             jit_compile=True, generator=None, callbacks=(), verbose=2, **overrides):
    """Pretrains `discriminator` with ELECTRA RTD on `corpus`; resumes from `output_dir`.

    Args:
        discriminator: a `ConvBertBackbone` or `GroupBertBackbone` (or any backbone with a
            shared `embeddings` layer, together with its `generator`).
        corpus: text file, glob or directory (see `pretraining_dataset`).
        output_dir: checkpoints (`checkpoints/step-XXXXXXXX/`) and `history.json` go here.
        tokenizer: a `ConvBertTokenizer`.
        steps: total optimizer steps (a multiple of `checkpoint_every`).
        sequence_length: packed sequence length.
        recipe: a key of `PRETRAINING_RECIPES`; `overrides` replace its entries
            (`learning_rate`, `warmup_fraction`, `batch_size`, `mask_selection_rate`,
            `generator_fraction`, `rtd_weight`, `optimizer`, `short_sequence_rate`,
            `temperature`: the generator's sampling temperature; `small_budget` 3.0,
            `released` 1.0 as in ELECTRA).
        checkpoint_every: steps between checkpoints.
        keep_checkpoints: how many checkpoints to keep.
        seed: seeds the data order, the masks, the weights and the generator's sampling.
        jit_compile: XLA.
        generator: optional generator backbone sharing `discriminator.embeddings`.
        callbacks: more Keras callbacks.
        verbose: `fit` verbosity.

    Returns:
        `(pretrainer, history)`: the `ConvBertElectraPretrainer` and a list of per-block
        metric dicts (`step`, `seconds` of training, losses, RTD precision / recall, ...).

    Raises:
        ValueError: bad arguments (named), or `output_dir` holds a checkpoint of a run with a
            different setting (the field is named).

    Example:
    >>> disc = ConvBertBackbone(vocabulary_size=30522, num_layers=2, num_heads=4,
    ...                         hidden_dim=128, intermediate_dim=512, max_sequence_length=64)
    >>> pretrainer, history = pretrain(disc, "corpus.txt", "run/", ConvBertTokenizer(),
    ...                                steps=600, sequence_length=64)
    """
    if recipe not in PRETRAINING_RECIPES:
        raise ValueError(f"`recipe` must be one of {sorted(PRETRAINING_RECIPES)}, got "
                         f"{recipe!r}.")
    unknown = set(overrides) - set(PRETRAINING_RECIPES[recipe])
    if unknown:
        raise TypeError(f"Unknown pretraining setting(s) {sorted(unknown)}; expected "
                        f"{sorted(PRETRAINING_RECIPES[recipe])}.")
    settings = {**PRETRAINING_RECIPES[recipe], **overrides}
    for name, value in (("steps", steps), ("checkpoint_every", checkpoint_every),
                        ("sequence_length", sequence_length)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    if steps % checkpoint_every:
        raise ValueError(f"`steps` ({steps}) must be a multiple of `checkpoint_every` "
                         f"({checkpoint_every}): checkpoints close blocks of that many steps.")
    if sequence_length > discriminator.max_sequence_length:
        raise ValueError(f"`sequence_length` {sequence_length} exceeds the model's "
                         f"{discriminator.max_sequence_length} positions.")

    keras.utils.set_random_seed(seed)
    pretrainer = ConvBertElectraPretrainer(
        discriminator, generator=generator, generator_fraction=settings["generator_fraction"],
        rtd_weight=settings["rtd_weight"], temperature=settings["temperature"], seed=seed)
    warmup = max(1, int(round(settings["warmup_fraction"] * steps)))
    pretrainer.compile(optimizer=pretraining_optimizer(
        settings["learning_rate"], steps, warmup, optimizer=settings["optimizer"]),
                       jit_compile=jit_compile)
    model_config = {k: v for k, v in discriminator.get_config().items()
                    if k not in ("name", "trainable", "dtype")}
    run_config = {"model": model_config, "backbone": type(discriminator).__name__,
                  "steps": steps, "sequence_length": sequence_length, "seed": seed,
                  "checkpoint_every": checkpoint_every, "vocabulary_size":
                  tokenizer.vocabulary_size(), **settings}
    checkpointer = StepCheckpointer(os.path.join(output_dir, "checkpoints"),
                                    keep=keep_checkpoints, config=run_config)
    history_path = os.path.join(output_dir, "history.json")
    start = checkpointer.restore_latest(pretrainer)
    records = []
    if start and os.path.isfile(history_path):
        with open(history_path) as f:
            records = [r for r in json.load(f) if r["step"] <= start]
    if start:
        print(f"Resuming from step {start} ({checkpointer.path(start)}).", flush=True)
    if start >= steps:
        return pretrainer, records

    dataset = pretraining_dataset(
        corpus, tokenizer, sequence_length, settings["batch_size"],
        mask_selection_rate=settings["mask_selection_rate"], seed=seed, start_batch=start,
        short_sequence_rate=settings["short_sequence_rate"])
    history = _History(records, records[-1]["seconds"] if records else 0.0)

    class _SaveHistory(keras.callbacks.Callback):
        # After the checkpoint: history.json never runs ahead of the newest checkpoint.
        def on_epoch_end(self, epoch, logs=None):
            tmp = f"{history_path}.tmp"
            with open(tmp, "w") as f:
                json.dump(history.records, f)
            os.replace(tmp, history_path)

    os.makedirs(output_dir, exist_ok=True)
    pretrainer.fit(
        dataset, steps_per_epoch=checkpoint_every, epochs=steps // checkpoint_every,
        initial_epoch=start // checkpoint_every, verbose=verbose,
        callbacks=[history, StepCheckpoint(checkpointer), _SaveHistory(), *callbacks],
    )
    return pretrainer, history.records
