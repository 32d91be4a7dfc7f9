"""The GLUE fine-tuning runner behind `convbert-tf finetune`."""

import importlib.util
import json
import os
import warnings

import keras
import tensorflow as tf

from convbert_tf.training.callbacks import SpearmanCorrelation
from convbert_tf.training.distribute import shard_by_data
from convbert_tf.training.glue_data import load_glue
from convbert_tf.training.metrics import BinaryF1Score, MatthewsCorrelation, PearsonCorrelation
from convbert_tf.training.recipe import fine_tuning_optimizer

# Spec: 3 epochs, 10 for RTE and STS-B; lr 3e-4 small / medium-small, 1e-4 base.
DEFAULT_EPOCHS = {"rte": 10, "stsb": 10}
MIXED_PRECISION_POLICIES = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def default_learning_rate(preset):
    return 1e-4 if "base" in str(preset) else 3e-4


def make_metrics(task):
    """The task's official metrics as streaming Keras metrics (Spearman: see the callback)."""
    factories = {
        "accuracy": lambda: keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        "f1": BinaryF1Score,
        "matthews_correlation": MatthewsCorrelation,
        "pearson": PearsonCorrelation,
    }
    return [factories[name]() for name in task.metrics if name in factories]


def load_backbone(checkpoint=None, preset=None, dtype=None):
    """A backbone from `--checkpoint` (HF / TF1 checkpoint or a keras-hub preset directory) or
    an architecture preset name (random weights). Imports the loaders only when needed."""
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

    if checkpoint:
        if not os.path.exists(checkpoint):
            raise FileNotFoundError(f"--checkpoint {checkpoint!r} does not exist.")
        if os.path.isfile(os.path.join(checkpoint, "metadata.json")):
            with open(os.path.join(checkpoint, "config.json")) as handle:
                class_name = json.load(handle).get("class_name", "")
            cls = GroupBertBackbone if "GroupBert" in class_name else ConvBertBackbone
            return cls.from_preset(checkpoint, dtype=dtype)
        from convbert_tf.checkpoints import load_checkpoint

        return load_checkpoint(checkpoint, dtype=dtype)
    for cls in (ConvBertBackbone, GroupBertBackbone):
        if preset in cls.presets:
            return cls.from_preset(preset, load_weights=False, dtype=dtype)
    names = sorted([*ConvBertBackbone.presets, *GroupBertBackbone.presets])
    raise ValueError(f"Unknown --preset {preset!r}; expected one of {', '.join(names)}.")


def make_preprocessor(checkpoint, sequence_length):
    """The classifier preprocessor, with the checkpoint's `vocab.txt` when it ships one."""
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor, ConvBertTokenizer

    vocabulary = None
    if checkpoint:
        candidate = os.path.join(checkpoint, "vocab.txt")
        vocabulary = candidate if os.path.isfile(candidate) else None
    return ConvBertTextClassifierPreprocessor(
        ConvBertTokenizer(vocabulary=vocabulary), sequence_length=sequence_length
    )


def build_task(task, backbone, preprocessor, dropout=0.1):
    from convbert_tf.tasks import ConvBertTextClassifier, ConvBertTextRegressor

    if task.is_regression:
        return ConvBertTextRegressor(backbone, preprocessor=preprocessor, dropout=dropout)
    return ConvBertTextClassifier(backbone, task.num_classes, preprocessor=preprocessor,
                                  dropout=dropout)


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
             max_train_examples=None, strategy=None, seed=0, verbose="auto", backbone=None):
    """Fine-tunes on one GLUE task with the official recipe; returns the final epoch's logs.

    Data are read and checked first (bad input fails in seconds, before any model is built).
    Saves under `output_dir`: `best.keras` (best dev score of the task's first metric),
    `logs/` (TensorBoard) and `backup/` (`BackupAndRestore`: rerun the same command after an
    interruption and training resumes at the last finished epoch).

    Args:
        task: GLUE task name (`sst2`, `cola`, `mrpc`, `stsb`, `qqp`, `mnli`, `qnli`, `rte`,
            `wnli`).
        preset: architecture preset (random weights) unless `checkpoint` is given.
        checkpoint: HF / TF1 checkpoint or preset directory with weights.
        data_dir: GLUE-format TSV root (`<data_dir>/SST-2/train.tsv`...); None: TFDS.
        tfds_data_dir: TFDS data dir holding a prepared `glue/<task>`.
        epochs: default 3 (10 for RTE and STS-B).
        batch_size, sequence_length: 32 and 128 in the recipe.
        learning_rate: peak rate; default 3e-4 (1e-4 for base presets).
        mixed_precision: None, "bf16" or "fp16" (fp16 gets loss scaling from `compile`).
        output_dir: where checkpoints and logs go (default `runs/<task>`).
        max_train_examples: use only the first N training examples.
        strategy: a `tf.distribute.Strategy` (see `training.distribute.create_strategy`).
        seed: random seed.
        verbose: Keras `fit` verbosity.
        backbone: a ready backbone (instead of `preset` / `checkpoint`), e.g. a custom size.

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
    if mixed_precision not in (None, *MIXED_PRECISION_POLICIES):
        raise ValueError(f"--mixed-precision must be bf16 or fp16, got {mixed_precision!r}.")
    output_dir = output_dir or os.path.join("runs", task.name)
    os.makedirs(output_dir, exist_ok=True)
    keras.utils.set_random_seed(seed)
    dtype = MIXED_PRECISION_POLICIES.get(mixed_precision)
    strategy = strategy or tf.distribute.get_strategy()
    steps_per_epoch = len(train) // batch_size

    with strategy.scope():
        backbone = backbone or load_backbone(checkpoint, preset, dtype=dtype)
        preprocessor = make_preprocessor(checkpoint, sequence_length)
        model = build_task(task, backbone, preprocessor)
        learning_rate = learning_rate or default_learning_rate(preset)
        model.compile(
            optimizer=fine_tuning_optimizer(model, learning_rate,
                                            num_train_steps=epochs * steps_per_epoch),
            metrics=make_metrics(task),
            jit_compile=True,
        )

    train_ds = (
        tf.data.Dataset.from_tensor_slices((train.features, train.labels))
        .shuffle(len(train), seed=seed)
        .batch(batch_size, drop_remainder=True)  # one static shape for XLA
    )
    dev_ds = tf.data.Dataset.from_tensor_slices((dev.features, dev.labels)).batch(batch_size)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        train_ds, dev_ds = shard_by_data(train_ds), shard_by_data(dev_ds)
    callbacks = []
    if "spearman" in task.metrics:
        # First, so that the checkpoint, TensorBoard and the progress bar see `val_spearman`.
        callbacks.append(SpearmanCorrelation(dev.features, dev.labels, batch_size=batch_size))
    callbacks += [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup")),
        keras.callbacks.ModelCheckpoint(
            os.path.join(output_dir, "best.keras"), monitor=monitor_name(task), mode="max",
            save_best_only=True,
        ),
    ]
    tensorboard = tensorboard_callback(os.path.join(output_dir, "logs"))
    callbacks += [tensorboard] if tensorboard is not None else []
    history = model.fit(train_ds, validation_data=dev_ds, epochs=epochs, callbacks=callbacks,
                        shuffle=False,  # train_ds shuffles itself
                        verbose=verbose)
    logs = {key: float(values[-1]) for key, values in history.history.items()}
    if verbose:
        print(json.dumps({"task": task.name, "train": train.source, "dev": dev.source,
                          **logs}, indent=1))
    return logs
