"""The PyTorch-free `.bin` reader: real `torch.save` files, and hostile or broken ones."""

import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

from convbert_tf.checkpoints.errors import CheckpointFormatError, UnsafeCheckpointError
from convbert_tf.checkpoints.torch_pickle import load_torch_state_dict
from tests.checkpoints.parity import DATA_DIR

TORCH_BIN = os.path.join(DATA_DIR, "torch_bin")


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_reads_torch_save_files_exactly(dtype):
    """Written by torch 2.13 (make_torch_bin_fixtures.py); expected = what torch reads back."""
    state = load_torch_state_dict(os.path.join(TORCH_BIN, f"{dtype}.bin"))
    expected = np.load(os.path.join(TORCH_BIN, "expected.npz"))
    keys = [k.split("/", 1)[1] for k in expected.files if k.startswith(f"{dtype}/")]
    assert list(state) == keys  # file order kept
    for key in keys:
        want = expected[f"{dtype}/{key}"]
        assert state[key].shape == want.shape, key
        # bfloat16 widens to float32 exactly; float16 keeps its dtype.
        np.testing.assert_array_equal(state[key].astype(want.dtype), want, err_msg=key)
    assert state["position_ids"].dtype == np.int64
    assert state["dense.weight"].dtype == {"float16": np.float16}.get(dtype, np.float32)
    np.testing.assert_array_equal(state["dense.weight_t"], state["dense.weight"].T)


def _zip_checkpoint(path, payload, storages=None):
    """A torch-style zip (`archive/data.pkl` + `archive/data/<key>`) around `payload`."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            archive.writestr(f"archive/data/{key}", raw)
    return str(path)


class _CallsSystem:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _touch(path):  # a harmless function a hostile pickle might call
    open(path, "w").close()


class _CallsTouch:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (_touch, (self.marker,))


@pytest.mark.parametrize("payload_cls, global_name", [(_CallsSystem, "system"),
                                                      (_CallsTouch, "_touch")])
def test_foreign_global_is_rejected_and_nothing_runs(tmp_path, payload_cls, global_name):
    marker = tmp_path / "executed"
    payload = pickle.dumps({"weight": payload_cls(str(marker))}, protocol=2)
    path = _zip_checkpoint(tmp_path / "evil.bin", payload)
    with pytest.raises(UnsafeCheckpointError, match=f"global '.*{global_name}'"):
        load_torch_state_dict(path)
    assert not marker.exists()


def test_hostile_model_directory_loads_nothing(tmp_path):
    """Through the public loader too: a hub directory whose .bin carries a payload."""
    import shutil

    from convbert_tf.checkpoints import load_hf_checkpoint

    marker = tmp_path / "executed"
    shutil.copyfile(os.path.join(DATA_DIR, "small_like", "config.json"),
                    tmp_path / "config.json")
    _zip_checkpoint(tmp_path / "pytorch_model.bin",
                    pickle.dumps({"weight": _CallsSystem(str(marker))}, protocol=2))
    with pytest.raises(ValueError, match="was not loaded"):
        load_hf_checkpoint(str(tmp_path))
    assert not marker.exists()


def test_truncated_zip_is_a_clear_error(tmp_path):
    data = open(os.path.join(TORCH_BIN, "float32.bin"), "rb").read()
    path = tmp_path / "truncated.bin"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointFormatError, match="truncated or corrupted"):
        load_torch_state_dict(str(path))


def test_corrupted_storage_is_a_clear_error(tmp_path):
    """A zip whose member bytes were damaged: zip's CRC check catches it."""
    data = bytearray(open(os.path.join(TORCH_BIN, "float32.bin"), "rb").read())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("float32/data/0")
    # The local header's name and extra lengths (torch pads the extra field for alignment).
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:
                                                    info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len] ^= 0xFF
    path = tmp_path / "corrupted.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointFormatError, match="corrupted"):
        load_torch_state_dict(str(path))


def test_tensor_outside_its_storage_is_rejected(tmp_path):
    """size/stride pointing past the storage would make as_strided read foreign memory."""
    original = zipfile.ZipFile(os.path.join(TORCH_BIN, "float32.bin"))
    payload = original.read("float32/data.pkl")
    # dense.weight is (4, 6) stride (6, 1); claim stride (60, 1).
    patched = payload.replace(b"K\x06K\x01\x86", b"K<K\x01\x86", 1)
    assert patched != payload
    storages = {n.rsplit("/", 1)[1]: original.read(n) for n in original.namelist()
                if "/data/" in n}
    path = _zip_checkpoint(tmp_path / "strided.bin", patched, storages)
    with pytest.raises(CheckpointFormatError, match="reads element"):
        load_torch_state_dict(path)


def test_legacy_and_foreign_files_are_named(tmp_path):
    legacy = tmp_path / "legacy.bin"
    legacy.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointFormatError, match="legacy"):
        load_torch_state_dict(str(legacy))
    text = tmp_path / "notes.bin"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointFormatError, match="not a PyTorch zip checkpoint"):
        load_torch_state_dict(str(text))
    not_tensors = _zip_checkpoint(tmp_path / "ints.bin", pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointFormatError, match="not named tensors"):
        load_torch_state_dict(not_tensors)


def test_build_cannot_tamper_with_the_reader(tmp_path):
    """BUILD on a resolved global (here: the float storage type's dtype) affects that file
    only: the next file reads as before."""
    import pickletools

    payload = (b"\x80\x02ctorch\nFloatStorage\n}X\x05\x00\x00\x00dtypeX\x07\x00\x00\x00"
               b"float16sb0}.")
    pickletools.dis(payload, out=io.StringIO())  # a well-formed pickle
    path = _zip_checkpoint(tmp_path / "tamper.bin", payload)
    assert load_torch_state_dict(path) == {}  # FloatStorage.dtype = "float16", then {}
    state = load_torch_state_dict(os.path.join(TORCH_BIN, "float32.bin"))
    assert state["dense.weight"].dtype == np.float32
