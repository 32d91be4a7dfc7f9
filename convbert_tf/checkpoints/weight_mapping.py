"""Validated, all-or-nothing assignment of checkpoint tensors to a backbone's variables.

Every checkpoint format reduces to a list of `WeightSource` rows: which backbone variable
(its Keras path, e.g. `transformer_layer_0/attention/query/kernel`) comes from which tensor of
the file, and how that tensor's layout becomes the Keras one. `assign_weights` checks all rows
first (missing tensors, shape mismatches, tensors nobody asked for) and raises one `ValueError`
that lists every problem; only when there is none does it write any variable, so a bad file
never leaves a half-loaded model behind.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a source tensor becomes a Keras variable.

    Args:
        name: short human-readable description, used in error messages.
        perm: axis permutation applied to the source (`np.transpose(src, perm)`), or None.
        squeeze_last: drop a trailing axis of size 1 (PyTorch's `[A, 1]` separable bias).
    """

    name: str
    perm: tuple = None
    squeeze_last: bool = False

    def to_keras(self, array):
        """Source-layout array -> Keras-layout array."""
        if self.squeeze_last:
            array = array[..., 0]
        if self.perm is not None:
            array = np.transpose(array, self.perm)
        return array

    def source_shape(self, keras_shape):
        """The source shape that yields `keras_shape` (used to validate before converting)."""
        shape = list(keras_shape)
        if self.perm is not None:
            # keras.shape[i] == source.shape[perm[i]]
            source = [None] * len(shape)
            for i, axis in enumerate(self.perm):
                source[axis] = shape[i]
            shape = source
        if self.squeeze_last:
            shape = [*shape, 1]
        return tuple(int(d) for d in shape)


AS_IS = Layout("as is")
TRANSPOSE = Layout("transposed", perm=(1, 0))
# PyTorch depthwise Conv1d weight [D, 1, K] -> Keras SeparableConv1D depthwise [K, D, 1].
TORCH_DEPTHWISE = Layout("torch depthwise [D,1,K]", perm=(2, 0, 1))
# PyTorch pointwise Conv1d weight [A, D, 1] -> Keras pointwise [1, D, A].
TORCH_POINTWISE = Layout("torch pointwise [A,D,1]", perm=(2, 1, 0))
# HF's separable-conv bias parameter is [A, 1].
TORCH_COLUMN_BIAS = Layout("torch bias [A,1]", squeeze_last=True)
# HF's TF grouped kernel [out/G, in/G, G] -> ours [G, in/G, out/G].
HF_TF_GROUPED = Layout("HF TF grouped [out/G,in/G,G]", perm=(2, 1, 0))



@dataclasses.dataclass(frozen=True)
class TorchGroupedConv:
    """PyTorch grouped `Conv1d(C, C, k, groups=G)` weight `[C, C/G, k]` (rows: output channels,
    group-major) -> our `[k, G, in/G, out/G]` kernel (GroupBERT's convolution module)."""

    name: str = "torch grouped Conv1d [C,C/G,k]"

    def to_keras(self, array):
        channels, in_per_group, k = array.shape
        groups = channels // in_per_group
        # [G*out, in, k] -> [G, out, in, k] -> [k, G, in, out]
        return np.transpose(array.reshape(groups, channels // groups, in_per_group, k),
                            (3, 0, 2, 1))

    def source_shape(self, keras_shape):
        k, groups, in_per_group, out_per_group = (int(d) for d in keras_shape)
        return (groups * out_per_group, in_per_group, k)


@dataclasses.dataclass(frozen=True)
class TorchGrouped1x1:
    """PyTorch `Conv1d(I, D, 1, groups=G)` weight `[D, I/G, 1]` -> our `GroupedDense` kernel
    `[G, I/G, D/G]` (GroupBERT's grouped FFN down-projection)."""

    name: str = "torch grouped Conv1d [D,I/G,1]"
    groups: int = 1

    def to_keras(self, array):
        units, in_per_group, _ = array.shape
        # [G*o, i, 1] -> [G, o, i] -> [G, i, o]
        return np.transpose(array[..., 0].reshape(self.groups, units // self.groups,
                                                  in_per_group), (0, 2, 1))

    def source_shape(self, keras_shape):
        groups, in_per_group, out_per_group = (int(d) for d in keras_shape)
        return (groups * out_per_group, in_per_group, 1)


@dataclasses.dataclass(frozen=True)
class WeightSource:
    """One backbone variable and the checkpoint tensor it is read from."""

    variable_path: str
    tensor_name: str
    layout: Layout = AS_IS


def backbone_variables(backbone):
    """`{variable.path: variable}` for every weight of `backbone`."""
    return {variable.path: variable for variable in backbone.weights}


def assign_weights(backbone, tensors, sources, source_description, ignored=()):
    """Checks every row of `sources` against `tensors`, then assigns them all (or nothing).

    Args:
        backbone: a built backbone.
        tensors: `{tensor_name: numpy array}` in the checkpoint's own layout. Only tensors
            the caller considers part of the backbone should be here: anything not consumed
            by `sources` and not listed in `ignored` is reported as unexpected.
        sources: iterable of `WeightSource`, one per backbone variable.
        source_description: where the tensors came from, for error messages.
        ignored: tensor names that are known and deliberately skipped.

    Raises:
        ValueError: listing ALL missing tensors, shape mismatches (expected vs found, in the
            checkpoint's layout) and unexpected tensors; nothing has been assigned then.

    Example:
    >>> assign_weights(backbone, {"emb": table}, [WeightSource(
    ...     "embeddings/word_embeddings/embeddings", "emb")], "my.npz")
    """
    variables = backbone_variables(backbone)
    sources = list(sources)
    covered = {source.variable_path for source in sources}
    uncovered = sorted(set(variables) - covered)
    unknown = sorted(covered - set(variables))
    if uncovered or unknown:
        # A mapping bug (or a backbone whose layers were renamed), never a file problem.
        raise RuntimeError(
            "Internal weight mapping does not match the backbone: variables without a source "
            f"{uncovered}, sources without a variable {unknown}."
        )

    missing, mismatched, values = [], [], {}
    for source in sources:
        variable = variables[source.variable_path]
        expected = source.layout.source_shape(variable.shape)
        if source.tensor_name not in tensors:
            missing.append(f"{source.tensor_name} (expected shape {expected})")
            continue
        array = np.asarray(tensors[source.tensor_name])
        if tuple(array.shape) != expected:
            mismatched.append(
                f"{source.tensor_name}: expected shape {expected} ({source.layout.name}), "
                f"found {tuple(array.shape)}"
            )
            continue
        values[source.variable_path] = source.layout.to_keras(array)
    consumed = {source.tensor_name for source in sources} | set(ignored)
    unexpected = sorted(name for name in tensors if name not in consumed)

    if missing or mismatched or unexpected:
        lines = [f"Cannot load {source_description} into {type(backbone).__name__}:"]
        for title, items in (("missing tensors", missing), ("shape mismatches", mismatched),
                             ("unexpected tensors", unexpected)):
            if items:
                lines.append(f"  {len(items)} {title}:")
                lines.extend(f"    {item}" for item in items)
        lines.append("Nothing was loaded. Check that the config matches the checkpoint.")
        raise ValueError("\n".join(lines))

    for path, value in values.items():
        variable = variables[path]
        # Checkpoints may be float16/float64; the variable's own dtype wins.
        variable.assign(value.astype(_numpy_dtype(variable.dtype), copy=False))


def _numpy_dtype(dtype):
    # numpy has no bfloat16: assign float32 and let the variable cast on assignment.
    return "float32" if "bfloat16" in str(dtype) else str(dtype)
