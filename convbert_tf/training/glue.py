"""The GLUE fine-tuning runner behind `convbert-tf finetune`."""

import importlib.util
import json
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from convbert_tf.tasks.heads import check_pooling
from convbert_tf.training.callbacks import SpearmanCorrelation, StepBackup
from convbert_tf.training.distribute import shard_by_data
from convbert_tf.training.glue_data import load_glue
from convbert_tf.training.metrics import BinaryF1Score, MatthewsCorrelation, PearsonCorrelation
from convbert_tf.training.recipe import fine_tuning_optimizer

# Spec: 3 epochs, 10 for RTE and STS-B; lr 3e-4 small / medium-small, 1e-4 base.
DEFAULT_EPOCHS = {"rte": 10, "stsb": 10}
MIXED_PRECISION_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


# ConvBERT-base's hidden size: the recipe's 1e-4 applies from here up, 3e-4 below.
BASE_HIDDEN_DIM = 768


def default_learning_rate(backbone):
    """The recipe's peak rate for `backbone`'s size, and why (printed by the runner).

    The size comes from the backbone itself, not from `--preset`: with `--checkpoint` the
    preset name is only the default and says nothing about the loaded weights.

    Args:
        backbone: the backbone to fine-tune (anything with a `hidden_dim`).

    Returns:
        `(learning_rate, reason)`.

    Example:
    >>> default_learning_rate(ConvBertBackbone.from_preset("conv_bert_base_en",
    ...                                                     load_weights=False))
    (0.0001, 'hidden_dim 768 >= 768 (base size): 1e-4')
    """
    hidden_dim = int(backbone.hidden_dim)
    if hidden_dim >= BASE_HIDDEN_DIM:
        return 1e-4, f"hidden_dim {hidden_dim} >= {BASE_HIDDEN_DIM} (base size): 1e-4"
    return 3e-4, f"hidden_dim {hidden_dim} < {BASE_HIDDEN_DIM} (small / medium-small): 3e-4"


def train_index_batches(num_examples, batch_size, epochs, seed):
    """Example indices of every training batch, `[epochs * steps_per_epoch, batch_size]`.

    Epoch `e` visits the examples in the order of a permutation seeded by `(seed, e)`, cut to
    whole batches (one static shape for XLA): a pure function of the global step, so a resumed
    run can start at any step without replaying the data pipeline.

    Example:
    >>> train_index_batches(10, 4, epochs=2, seed=0).shape
    (4, 4)
    """
    steps = num_examples // batch_size
    orders = [np.random.default_rng([seed, epoch]).permutation(num_examples)[:steps * batch_size]
              for epoch in range(epochs)]
    return np.concatenate(orders).reshape(epochs * steps, batch_size).astype("int32")


def make_metrics(task):
    """The task's official metrics as streaming Keras metrics (Spearman: see the callback)."""
    factories = {
        "accuracy": lambda: keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        "f1": BinaryF1Score,
        "matthews_correlation": MatthewsCorrelation,
        "pearson": PearsonCorrelation,
    }
    return [factories[name]() for name in task.metrics if name in factories]


def make_preprocessor(checkpoint, sequence_length):
    """The classifier preprocessor, with the checkpoint's `vocab.txt` (HF / TF1 directories)
    or tokenizer (preset directories with a `tokenizer.json`) when it ships one."""
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor, ConvBertTokenizer

    tokenizer = None
    if checkpoint and os.path.isfile(os.path.join(checkpoint, "vocab.txt")):
        tokenizer = ConvBertTokenizer(vocabulary=os.path.join(checkpoint, "vocab.txt"))
    elif checkpoint and os.path.isfile(os.path.join(checkpoint, "tokenizer.json")):
        tokenizer = ConvBertTokenizer.from_preset(checkpoint)
    return ConvBertTextClassifierPreprocessor(tokenizer or ConvBertTokenizer(),
                                              sequence_length=sequence_length)


def build_task(task, backbone, preprocessor, dropout=0.1, pooling="auto"):
    from convbert_tf.tasks import ConvBertTextClassifier, ConvBertTextRegressor

    if task.is_regression:
        return ConvBertTextRegressor(backbone, preprocessor=preprocessor, dropout=dropout,
                                     pooling=pooling)
    return ConvBertTextClassifier(backbone, task.num_classes, preprocessor=preprocessor,
                                  dropout=dropout, pooling=pooling)


def tensorboard_callback(log_dir):
    """`keras.callbacks.TensorBoard`, or None (with a warning) when `tensorboard` is missing:
    TensorFlow does not depend on it and its summary ops fail without it."""
    if importlib.util.find_spec("tensorboard") is None:
        warnings.warn("`tensorboard` is not installed: no TensorBoard logs "
                      "(`pip install tensorboard`).", stacklevel=2)
        return None
    return keras.callbacks.TensorBoard(log_dir)


def monitor_name(task):
    return f"val_{task.metrics[0]}"


def run_glue(task, preset="conv_bert_small_en", checkpoint=None, data_dir=None,
             tfds_data_dir=None, epochs=None, batch_size=32, sequence_length=128,
             learning_rate=None, mixed_precision=None, output_dir=None,
             max_train_examples=None, strategy=None, seed=0, verbose="auto", backbone=None,
             backup_every=100, callbacks=None, pooling="auto"):
    """Fine-tunes on one GLUE task with the official recipe; returns the final epoch's logs.

    Data are read and checked first (bad input fails in seconds, before any model is built).
    Saves under `output_dir`: `best.keras` (best dev score of the task's first metric),
    `logs/` (TensorBoard) and `backup/` (`StepBackup`: rerun the same command after an
    interruption, even a SIGKILL mid-epoch, and training resumes at the last backed-up step
    and ends with the weights of an uninterrupted run).

    Args:
        task: GLUE task name (`sst2`, `cola`, `mrpc`, `stsb`, `qqp`, `mnli`, `qnli`, `rte`,
            `wnli`).
        preset: architecture preset (random weights) unless `checkpoint` is given; any form
            `convbert_tf.models.load_backbone` accepts.
        checkpoint: what to start from: a HF / TF1 checkpoint, a preset directory, an
            `hf://` / `kaggle://` handle (`convbert_tf.models.load_backbone`).
        data_dir: GLUE-format TSV root (`<data_dir>/SST-2/train.tsv`...); None: TFDS.
        tfds_data_dir: TFDS data dir holding a prepared `glue/<task>`.
        epochs: default 3 (10 for RTE and STS-B).
        batch_size, sequence_length: 32 and 128 in the recipe.
        learning_rate: peak rate; default from the backbone's size (`default_learning_rate`):
            1e-4 for base size (hidden 768 and up), else 3e-4. The choice is printed.
        mixed_precision: None, "bf16" or "fp16" (fp16 gets loss scaling from `compile`).
        output_dir: where checkpoints and logs go (default `runs/<task>`).
        max_train_examples: use only the first N training examples.
        strategy: a `tf.distribute.Strategy` (see `training.distribute.create_strategy`).
        seed: random seed.
        verbose: Keras `fit` verbosity.
        backbone: a ready backbone (instead of `preset` / `checkpoint`), e.g. a custom size.
        backup_every: save the full training state (`callbacks.StepBackup`) every this many
            steps and at each epoch end; rerunning the same command resumes exactly there,
            also mid-epoch (same batches, same dropout masks, same optimizer state).
        callbacks: extra Keras callbacks.
        pooling: the head's sentence vector (`ConvBertTextClassifier`): `"auto"`,
            `"first_token"`, `"pooled"` or `"mean"` (for a discriminator pretrained briefly
            with `convbert-tf pretrain`: docs/pretraining.md).

    Example:
    >>> run_glue("rte", data_dir="/work/shared/data/glue", preset="conv_bert_small_en",
    ...          epochs=1, max_train_examples=256, sequence_length=64)
    """
    task, train, dev = load_glue(task, data_dir, tfds_data_dir, max_train_examples)
    epochs = epochs or DEFAULT_EPOCHS.get(task.name, 3)
    if batch_size <= 0 or epochs <= 0:
        raise ValueError(f"--batch-size and --epochs must be positive ({batch_size}, {epochs}).")
    if len(train) < batch_size:
        raise ValueError(f"{train.source}: {len(train)} examples, fewer than one batch of "
                         f"{batch_size}.")
    if isinstance(backup_every, bool) or not isinstance(backup_every, int) or backup_every < 1:
        raise ValueError(f"--backup-every must be a positive int, got {backup_every!r}.")
    check_pooling(pooling, "--pooling")
    if mixed_precision not in (None, *MIXED_PRECISION_POLICIES):
        raise ValueError(f"--mixed-precision must be bf16 or fp16, got {mixed_precision!r}.")
    output_dir = output_dir or os.path.join("runs", task.name)
    os.makedirs(output_dir, exist_ok=True)
    keras.utils.set_random_seed(seed)
    dtype = MIXED_PRECISION_POLICIES.get(mixed_precision)
    strategy = strategy or tf.distribute.get_strategy()
    steps_per_epoch = len(train) // batch_size

    with strategy.scope():
        if backbone is None:
            from convbert_tf.models import load_backbone

            backbone = load_backbone(checkpoint or preset, dtype=dtype,
                                     argument="--checkpoint" if checkpoint else "--preset")
        preprocessor = make_preprocessor(checkpoint, sequence_length)
        model = build_task(task, backbone, preprocessor, pooling=pooling)
        if learning_rate is None:
            learning_rate, reason = default_learning_rate(backbone)
            print(f"learning rate {learning_rate:g} (recipe default for {reason})")
        else:
            print(f"learning rate {learning_rate:g} (given)")
        model.compile(
            optimizer=fine_tuning_optimizer(model, learning_rate,
                                            num_train_steps=epochs * steps_per_epoch),
            metrics=make_metrics(task),
            jit_compile=True,
        )

    dev_ds = tf.data.Dataset.from_tensor_slices((dev.features, dev.labels)).batch(batch_size)
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    if multi_worker:
        dev_ds = shard_by_data(dev_ds)
    best_checkpoint = keras.callbacks.ModelCheckpoint(
        os.path.join(output_dir, "best.keras"), monitor=monitor_name(task), mode="max",
        save_best_only=True,
    )
    backup = StepBackup(
        os.path.join(output_dir, "backup"), every=backup_every,
        extra=lambda: {"best": None if best_checkpoint.best is None
                       else float(best_checkpoint.best)},
        # Multi-worker: every worker restores from the chief's file (shared storage).
        write=not multi_worker or strategy.cluster_resolver.task_id == 0,
    )
    with strategy.scope():
        start_step, extra = backup.restore(model)
    if start_step:
        # The best dev score so far, so that `best.keras` is only replaced by a better one.
        if extra.get("best") is not None:
            best_checkpoint.best = extra["best"]
        epoch, in_epoch = divmod(start_step, steps_per_epoch)
        print(f"resuming from {backup.path} at step {start_step} (epoch {epoch}, "
              f"batch {in_epoch})")
    callbacks = [*(callbacks or [])]
    if "spearman" in task.metrics:
        # First, so that the checkpoint, TensorBoard and the progress bar see `val_spearman`.
        callbacks.insert(0, SpearmanCorrelation(dev.features, dev.labels,
                                                batch_size=batch_size))
    callbacks += [keras.callbacks.TerminateOnNaN(), backup, best_checkpoint]
    tensorboard = tensorboard_callback(os.path.join(output_dir, "logs"))
    callbacks += [tensorboard] if tensorboard is not None else []

    def batches(first_step, last_step):
        # Batches as a pure function of the global step: a resumed run sees exactly the
        # batches (and order) an uninterrupted one sees from `first_step` on.
        index = train_index_batches(len(train), batch_size, epochs, seed)[first_step:last_step]
        texts = tuple(tf.constant(column) for column in train.texts)  # 1 or 2 columns
        labels = tf.constant(train.labels)

        def gather(i):
            x = tuple(tf.gather(column, i) for column in texts)
            return (x[0] if len(x) == 1 else x), tf.gather(labels, i)

        dataset = tf.data.Dataset.from_tensor_slices(index).map(gather)
        return shard_by_data(dataset) if multi_worker else dataset

    # A run resumed mid-epoch first finishes that epoch (a shorter `fit`), then the rest.
    epoch, in_epoch = divmod(start_step, steps_per_epoch)
    segments = []
    if in_epoch:
        segments.append((epoch, epoch + 1, steps_per_epoch - in_epoch))
        epoch += 1
    if epoch < epochs:
        segments.append((epoch, epochs, steps_per_epoch))
    merged = {}
    step = start_step
    for initial_epoch, end_epoch, steps in segments:
        last = step + (end_epoch - initial_epoch) * steps
        history = model.fit(batches(step, last), validation_data=dev_ds, epochs=end_epoch,
                            initial_epoch=initial_epoch, steps_per_epoch=steps,
                            callbacks=callbacks, verbose=verbose,
                            shuffle=False)  # the batches are shuffled by construction
        step = last
        for key, values in history.history.items():
            merged.setdefault(key, []).extend(values)
    if not merged:
        print(f"{backup.path}: training had already finished ({start_step} steps)")
        return {}
    logs = {key: float(values[-1]) for key, values in merged.items()}
    if verbose:
        print(json.dumps({"task": task.name, "train": train.source, "dev": dev.source,
                          **logs}, indent=1))
    return logs
