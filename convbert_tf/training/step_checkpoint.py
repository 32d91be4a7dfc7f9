"""Step-based checkpoints with exact resume, for runs that have no epochs (pretraining).

A checkpoint is a directory `step-00001000/` holding `variables.npz` (every model variable,
the random-seed states of sampling and dropout included, then every optimizer variable, its
step counter included) and `state.json` (the step, the run's config, the variable paths and
shapes). It is written to a temporary directory and renamed into place, so a run killed at any
instant leaves either the previous checkpoint set or the new one, never half a checkpoint.
The last `keep` checkpoints are kept. `np.load(..., allow_pickle=False)` reads them back: a
checkpoint is data, never code.

With a data pipeline whose batch `i` depends only on `i` (`pretraining_dataset(start_batch=)`),
restoring step `n` and feeding batches `n, n+1, ...` continues with exactly the losses an
uninterrupted run would have had (tested by killing a run with SIGKILL).
"""

import json
import os
import shutil

import keras
import numpy as np

_PREFIX = "step-"
_STATE = "state.json"
_VARIABLES = "variables.npz"


def _model_and_optimizer_variables(model):
    if model.optimizer is None:
        raise ValueError("Compile the model before saving or restoring a step checkpoint.")
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return list(model.variables), list(model.optimizer.variables)


class StepCheckpointer:
    """Writes, lists and restores step checkpoints of a compiled Keras model.

    Args:
        directory: where the `step-XXXXXXXX/` directories live (created if missing).
        keep: how many of the newest checkpoints to keep (>= 1).
        config: a JSON-serialisable dict describing the run (model, data, optimizer settings).
            `restore` refuses a checkpoint written under a different config and names the
            differing field, so a resumed run cannot silently change.

    Example:
    >>> checkpointer = StepCheckpointer("run/checkpoints", keep=3, config={"lr": 1e-3})
    >>> checkpointer.save(pretrainer, step=1000)
    >>> step = checkpointer.restore_latest(pretrainer)      # 1000, or 0 when there is none
    """

    def __init__(self, directory, keep=3, config=None):
        if not isinstance(keep, int) or keep < 1:
            raise ValueError(f"`keep` must be an int >= 1, got {keep!r}.")
        self.directory = os.fspath(directory)
        self.keep = keep
        self.config = json.loads(json.dumps(config or {}))  # normalised: tuples -> lists

    def steps(self):
        """The steps of the complete checkpoints on disk, oldest first."""
        if not os.path.isdir(self.directory):
            return []
        steps = []
        for name in os.listdir(self.directory):
            path = os.path.join(self.directory, name)
            if (name.startswith(_PREFIX) and name[len(_PREFIX):].isdigit()
                    and os.path.isfile(os.path.join(path, _STATE))):
                steps.append(int(name[len(_PREFIX):]))
        return sorted(steps)

    def path(self, step):
        return os.path.join(self.directory, f"{_PREFIX}{step:08d}")

    def save(self, model, step):
        """Writes the checkpoint of `step` atomically and prunes the old ones. Returns its path."""
        model_vars, optimizer_vars = _model_and_optimizer_variables(model)
        arrays = {f"v{i:05d}": keras.ops.convert_to_numpy(v.value)
                  for i, v in enumerate(model_vars + optimizer_vars)}
        state = {
            "step": int(step),
            "config": self.config,
            "model_variables": [[v.path, list(v.shape)] for v in model_vars],
            "optimizer_variables": [[v.path, list(v.shape)] for v in optimizer_vars],
        }
        os.makedirs(self.directory, exist_ok=True)
        final = self.path(step)
        tmp = f"{final}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        np.savez(os.path.join(tmp, _VARIABLES), **arrays)
        # state.json last: a directory without it is never taken for a checkpoint.
        with open(os.path.join(tmp, _STATE), "w") as f:
            json.dump(state, f)
        for name in (_VARIABLES, _STATE):
            with open(os.path.join(tmp, name), "rb") as f:
                os.fsync(f.fileno())
        if os.path.exists(final):
            shutil.rmtree(final)
        os.rename(tmp, final)
        for old in self.steps()[:-self.keep]:
            shutil.rmtree(self.path(old), ignore_errors=True)
        return final

    def restore(self, model, step):
        """Loads the checkpoint of `step` into `model` (weights, seeds, optimizer). Returns step.

        Raises:
            ValueError: the checkpoint was written under another config (the first differing
                field is named), or its variables do not match the model's.
        """
        path = self.path(step)
        with open(os.path.join(path, _STATE)) as f:
            state = json.load(f)
        _check_same_config(state["config"], self.config, path)
        model_vars, optimizer_vars = _model_and_optimizer_variables(model)
        for kind, variables in (("model", model_vars), ("optimizer", optimizer_vars)):
            # Shapes, not paths: auto-generated names (`seed_generator_7`) depend on how many
            # layers the process built before, not on the model.
            saved = [shape for _, shape in state[f"{kind}_variables"]]
            current = [list(v.shape) for v in variables]
            if saved != current:
                raise ValueError(f"The checkpoint {path!r} holds {len(saved)} {kind} variables "
                                 f"that do not match this model's {len(current)}: first "
                                 f"difference {_first_difference(saved, current)}.")
        with np.load(os.path.join(path, _VARIABLES), allow_pickle=False) as arrays:
            values = [arrays[f"v{i:05d}"] for i in range(len(model_vars) + len(optimizer_vars))]
        for variable, value in zip(model_vars + optimizer_vars, values):
            variable.assign(value)
        return int(state["step"])

    def restore_latest(self, model):
        """Restores the newest checkpoint; returns its step, or 0 when there is none."""
        steps = self.steps()
        return self.restore(model, steps[-1]) if steps else 0


def _first_difference(saved, current):
    for i, (a, b) in enumerate(zip(saved, current)):
        if a != b:
            return f"#{i}: saved shape {a}, model shape {b}"
    return f"saved {len(saved)} variables, model {len(current)}"


def _check_same_config(saved, current, path, prefix=""):
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key, "<missing>"), current.get(key, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            _check_same_config(a, b, path, f"{prefix}{key}.")
        elif a != b:
            raise ValueError(f"Refusing to resume from {path!r}: `{prefix}{key}` was {a!r} "
                             f"there and is {b!r} now. Resume with the same settings, or start "
                             "a new run in another output directory.")


class StepCheckpoint(keras.callbacks.Callback):
    """Saves a `StepCheckpointer` checkpoint at the end of every `fit` epoch (a block of steps).

    Use `fit(steps_per_epoch=every)`: a checkpoint is written at the end of each "epoch",
    which is then just a block of `every` steps (pretraining has no epochs).

    Args:
        checkpointer: a `StepCheckpointer`.
    """

    def __init__(self, checkpointer):
        super().__init__()
        self.checkpointer = checkpointer

    def on_epoch_end(self, epoch, logs=None):
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self.checkpointer.save(self.model, step)
