"""Reading `pytorch_model.bin` without PyTorch, and without running any code from the file.

A PyTorch checkpoint written by `torch.save` (>= 1.6, the zip format) is a zip archive:

    <archive>/data.pkl     a pickle of the state dict; tensors are pickled as
                           `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
                           and each storage as a *persistent id*
                           `("storage", torch.<Dtype>Storage, key, location, numel)`
    <archive>/data/<key>   the raw little-endian bytes of storage <key>
    <archive>/byteorder    "little" (absent in old files, which are little-endian)

A pickle can call any importable function, so `pickle.load` on a downloaded file is arbitrary
code execution. `SafeTorchUnpickler` resolves only the handful of globals a state dict needs
(`collections.OrderedDict`, the two tensor rebuild functions, the storage types) to inert
stand-ins defined here, and rejects every other global before anything is called. Tensors come
back as numpy arrays (bfloat16 widened to float32, since numpy has no bfloat16).

The pre-1.6 "legacy" format (a bare pickle stream) is recognised and rejected with a clear error.
"""

import collections
import functools
import io
import pickle
import zipfile

import numpy as np

from convbert_tf.checkpoints.errors import CheckpointFormatError, UnsafeCheckpointError

# torch storage class name -> numpy dtype of its elements ("bfloat16" is handled apart).
_STORAGE_DTYPES = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


class _StorageType:
    """Stand-in for `torch.<Dtype>Storage`: only its element dtype matters."""

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A storage's element dtype and its elements as a flat numpy array."""

    def __init__(self, dtype, data, key):
        self.dtype = dtype
        self.data = data
        self.key = key


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False,
                    backward_hooks=None, metadata=None):
    """Stand-in for `torch._utils._rebuild_tensor_v2`: a strided view, bounds-checked, copied."""
    del requires_grad, backward_hooks, metadata  # autograd bookkeeping: irrelevant here
    if not isinstance(storage, _Storage):
        raise CheckpointFormatError("A tensor in the checkpoint does not refer to a storage.")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = int(storage_offset)
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride) \
            or offset < 0:
        raise CheckpointFormatError(
            f"Tensor on storage {storage.key!r} has an invalid layout: offset {offset}, size "
            f"{size}, stride {stride}."
        )
    data = storage.data
    if 0 in size:
        return np.zeros(size, dtype=data.dtype)
    # The last element read must lie inside the storage: as_strided does not check, and a
    # crafted file could otherwise make it read arbitrary memory.
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= data.size:
        raise CheckpointFormatError(
            f"Tensor on storage {storage.key!r} reads element {last} of a storage of "
            f"{data.size} elements: the file is corrupted or truncated."
        )
    view = np.lib.stride_tricks.as_strided(
        data[offset:], shape=size, strides=tuple(s * data.itemsize for s in stride),
        writeable=False,
    )
    return np.array(view)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """Stand-in for `torch._utils._rebuild_parameter`: a parameter is its data."""
    del requires_grad, backward_hooks
    return data


class _StateDict(collections.OrderedDict):
    """`collections.OrderedDict` that also accepts the `_metadata` attribute state dicts carry."""


def _allowed_globals():
    """(module, name) -> the inert object the pickle gets instead; nothing else resolves.

    Fresh objects for every file: a pickle's BUILD opcode can set attributes on whatever it
    resolved, and such changes must not outlive that one file (or reach the module).
    """
    return {
        ("collections", "OrderedDict"): type("StateDict", (_StateDict,), {}),
        ("torch._utils", "_rebuild_tensor_v2"): functools.partial(_rebuild_tensor),
        ("torch._utils", "_rebuild_parameter"): functools.partial(_rebuild_parameter),
        **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
    }


class SafeTorchUnpickler(pickle.Unpickler):
    """Unpickles a PyTorch state dict while refusing every global except the tensor machinery.

    Args:
        file: the `data.pkl` stream.
        load_storage: callable `(key, dtype) -> flat numpy array` of that storage's elements.
        source: the checkpoint path, for error messages.
    """

    def __init__(self, file, load_storage, source):
        super().__init__(file)
        self.load_storage = load_storage
        self.source = source
        self.storages = {}
        self.allowed = _allowed_globals()

    def find_class(self, module, name):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise UnsafeCheckpointError(
                f"{self.source} refers to the Python global '{module}.{name}', which a weights "
                "file has no reason to contain; it was not loaded (loading it could run code). "
                "Only tensors in OrderedDicts are accepted. If the file is yours, re-save the "
                "state dict alone (`torch.save(model.state_dict(), path)`) or as safetensors."
            ) from None

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise CheckpointFormatError(
                f"{self.source}: unexpected persistent id {pid!r:.80} (not a tensor storage)."
            )
        storage_type, key = pid[1], str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype,
                                          self.load_storage(key, storage_type.dtype), key)
        return self.storages[key]


def _bytes_to_array(raw, dtype, big_endian):
    if dtype == "bfloat16":
        # bfloat16 is the upper half of a float32: widen exactly.
        halves = np.frombuffer(raw, dtype=">u2" if big_endian else "<u2").astype(np.uint32)
        return (halves << 16).view(np.float32)
    array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder(">" if big_endian else "<"))
    return array.astype(np.dtype(dtype).newbyteorder("="))


def load_torch_state_dict(path):
    """Reads a `torch.save` zip checkpoint into `{name: numpy array}`, never executing its code.

    Args:
        path: a `pytorch_model.bin` (or `.pt`) written by `torch.save` with PyTorch >= 1.6.

    Returns:
        A dict of numpy arrays in the file's order. float16/float32/float64 and integer tensors
        keep their dtype; bfloat16 ones become float32 (exactly).

    Raises:
        UnsafeCheckpointError: (a ValueError) the pickle names any global other than the
            tensor machinery; nothing from it was called.
        CheckpointFormatError: (a ValueError) not a zip checkpoint (legacy format, truncated
            or corrupted file), or the tensors do not fit their storages.

    Example:
    >>> state = load_torch_state_dict("conv-bert-small/pytorch_model.bin")
    >>> state["embeddings.word_embeddings.weight"].shape
    (30522, 128)
    """
    path = str(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(2)
        if head[:1] == b"\x80":
            raise CheckpointFormatError(
                f"{path} is in PyTorch's legacy (pre-1.6) serialization format, which is not "
                "supported without PyTorch. Re-save it with a recent torch "
                "(`torch.save(torch.load(path), path)`) or convert it to safetensors."
            )
        raise CheckpointFormatError(
            f"{path} is not a PyTorch zip checkpoint (no zip directory found: the file is "
            "truncated or corrupted, or not a torch.save file). Download it again."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
            if len(pickles) != 1:
                raise CheckpointFormatError(
                    f"{path}: expected one '<archive>/data.pkl' in the zip, found {pickles}."
                )
            prefix = pickles[0][: -len("data.pkl")]
            byteorder = "little"
            if prefix + "byteorder" in names:
                byteorder = archive.read(prefix + "byteorder").decode("ascii").strip()
            if byteorder not in ("little", "big"):
                raise CheckpointFormatError(f"{path}: unknown byteorder {byteorder!r}.")

            def load_storage(key, dtype):
                entry = f"{prefix}data/{key}"
                if entry not in names:
                    raise CheckpointFormatError(f"{path}: storage {entry} is missing.")
                raw = archive.read(entry)
                itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
                if len(raw) % itemsize:
                    raise CheckpointFormatError(
                        f"{path}: storage {entry} has {len(raw)} bytes, not a multiple of "
                        f"{itemsize} ({dtype})."
                    )
                return _bytes_to_array(raw, dtype, byteorder == "big")

            unpickler = SafeTorchUnpickler(io.BytesIO(archive.read(pickles[0])), load_storage,
                                           path)
            state = unpickler.load()
    except CheckpointFormatError:
        raise
    except Exception as error:  # noqa: BLE001 - zip, zlib and pickle each fail their own way
        raise CheckpointFormatError(
            f"{path} is corrupted or truncated ({type(error).__name__}: {error}). Download it "
            "again."
        ) from error
    if not isinstance(state, dict):
        raise CheckpointFormatError(
            f"{path} holds a {type(state).__name__}, not a state dict of tensors."
        )
    bad = [k for k, v in state.items() if not (isinstance(k, str) and isinstance(v, np.ndarray))]
    if bad:
        raise CheckpointFormatError(
            f"{path}: entries that are not named tensors: {', '.join(map(repr, bad[:5]))}."
        )
    return dict(state)
