"""Callbacks of the fine-tuning runner."""

import json
import os

import keras
import numpy as np


def spearman_correlation(x, y):
    """Spearman's rho of two 1-D arrays: Pearson of their ranks, ties get their average rank."""
    x = np.asarray(x, "float64").reshape(-1)
    y = np.asarray(y, "float64").reshape(-1)
    if x.size != y.size or x.size < 2:
        raise ValueError(f"Need two equally long arrays of >= 2 values, got {x.size}, {y.size}.")
    rank_x, rank_y = _average_ranks(x), _average_ranks(y)
    rank_x -= rank_x.mean()
    rank_y -= rank_y.mean()
    denominator = np.sqrt((rank_x**2).sum() * (rank_y**2).sum())
    return float((rank_x * rank_y).sum() / denominator) if denominator > 0 else 0.0


def _average_ranks(values):
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(values.size, "float64")
    ranks[order] = np.arange(values.size, dtype="float64")
    # Ties: every member of a run of equal values gets the run's mean rank.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


class SpearmanCorrelation(keras.callbacks.Callback):
    """Adds `val_spearman` to the epoch logs (STS-B's second metric).

    Spearman needs all predictions at once, so it cannot be a streaming Keras metric. This runs
    `model.predict` on the validation inputs at the end of each epoch and writes the result into
    the logs dict; put it *before* `TensorBoard` / `ModelCheckpoint` in the callback list so they
    see it (the progress bar always comes last).

    Args:
        x: validation inputs (raw strings / pairs when the model has a preprocessor).
        y: validation targets.
        batch_size: prediction batch size.
        name: the logs key.

    Example:
    >>> model.fit(train, validation_data=(x_val, y_val),
    ...           callbacks=[SpearmanCorrelation(x_val, y_val)])
    """

    def __init__(self, x, y, batch_size=64, name="val_spearman"):
        super().__init__()
        self.x = x
        self.y = np.asarray(y)
        self.batch_size = batch_size
        self.name = name

    def on_epoch_end(self, epoch, logs=None):
        predictions = self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        value = spearman_correlation(predictions, self.y)
        if logs is not None:
            logs[self.name] = value



BACKUP_FILENAME = "state.npz"


def _stateful(model):
    """Every variable that decides the next step: weights, optimizer slots and step counter,
    and the dropout seed-generator states (`model.variables` has them, `weights` does not).
    Metric accumulators are left out: they restart each epoch."""
    metric_ids = {id(v) for v in model.metrics_variables}
    return [v for v in [*model.variables, *model.optimizer.variables] if id(v) not in metric_ids]


def _state_dict(model):
    variables = _stateful(model)
    paths = [v.path for v in variables]
    if len(set(paths)) != len(paths):
        duplicates = sorted({p for p in paths if paths.count(p) > 1})
        raise ValueError(f"Variable paths are not unique, cannot back up by path: {duplicates}")
    return dict(zip(paths, variables))


class StepBackup(keras.callbacks.Callback):
    """Exact resume, also mid-epoch: saves the whole training state every `every` steps.

    Keras' `BackupAndRestore` restores weights and the epoch, but not the position inside the
    epoch nor the dropout RNG, so a run killed mid-epoch replays the epoch's first batches with
    other dropout masks. This callback saves, atomically (temporary file + `os.replace`, so a
    SIGKILL during the write leaves the previous backup intact), the model's variables, the
    optimizer's variables (slots, step counter) and the dropout seed-generator states, plus
    `extra` metadata (e.g. the best dev score so far). The data position is the optimizer's
    step counter: the GLUE runner feeds batches as a pure function of the global step
    (`glue.train_index_batches`), so resuming at step `g` sees exactly the batches an
    uninterrupted run sees from `g` on.

    Args:
        backup_dir: directory of `state.npz`.
        every: save after every `every` training steps (and at each epoch end).
        extra: callable returning a JSON-able dict saved with the state.
        write: False on non-chief workers of a multi-worker run (they only read).

    Example:
    >>> backup = StepBackup("runs/rte/backup", every=100)
    >>> step, extra = backup.restore(model)      # before fit; 0, {} when there is no backup
    >>> model.fit(batches_from(step), callbacks=[backup], ...)
    """

    def __init__(self, backup_dir, every=100, extra=None, write=True):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be a positive int, got {every!r}.")
        self.backup_dir = backup_dir
        self.every = every
        self.extra = extra
        self.write = write

    @property
    def path(self):
        return os.path.join(self.backup_dir, BACKUP_FILENAME)

    def restore(self, model):
        """Loads the backup into `model` (optimizer built first); returns `(step, extra)`."""
        model.optimizer.build(model.trainable_variables)
        if not os.path.isfile(self.path):
            return 0, {}
        variables = _state_dict(model)
        with np.load(self.path, allow_pickle=False) as saved:
            missing = sorted(set(variables) - set(saved.files) - {"__extra__"})
            if missing:
                raise ValueError(f"{self.path} does not match this model: no {missing[:3]}... "
                                 "Delete the backup directory to start afresh.")
            for path, variable in variables.items():
                if tuple(saved[path].shape) != tuple(variable.shape):
                    raise ValueError(f"{self.path}: {path} has shape {saved[path].shape}, "
                                     f"the model's is {tuple(variable.shape)}.")
                variable.assign(saved[path])
            extra = json.loads(str(saved["__extra__"])) if "__extra__" in saved.files else {}
        return int(model.optimizer.iterations.numpy()), extra

    def save(self):
        if not self.write:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        arrays = {path: np.asarray(v.numpy()) for path, v in _state_dict(self.model).items()}
        arrays["__extra__"] = np.asarray(json.dumps(self.extra() if self.extra else {}))
        tmp = self.path + ".tmp.npz"
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) % self.every == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()
