"""Bad checkpoints: clear errors, every offending tensor listed once, nothing half-loaded."""

import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

from convbert_tf.checkpoints import CheckpointNotFoundError, load_hf_checkpoint
from convbert_tf.checkpoints.name_maps import hf_torch_sources
from convbert_tf.checkpoints.weight_mapping import assign_weights
from convbert_tf.cli import main
from tests.checkpoints.parity import copy_fixture, fixture_dir, torch_state


def _edit_config(directory, **changes):
    path = os.path.join(directory, "config.json")
    with open(path) as f:
        config = json.load(f)
    config.update(changes)
    with open(path, "w") as f:
        json.dump(config, f)


def test_missing_paths_and_files(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="does not exist"):
        load_hf_checkpoint(str(tmp_path / "nope"))
    with pytest.raises(ValueError, match=r"No weights in .*model\.safetensors, tf_model\.h5"):
        load_hf_checkpoint(str(tmp_path))
    os.rename(copy_fixture("small_like", str(tmp_path / "a")) + "/config.json",
              str(tmp_path / "moved.json"))
    with pytest.raises(ValueError, match=r"Missing .*config\.json"):
        load_hf_checkpoint(str(tmp_path / "a"))


@pytest.mark.parametrize("changes, message", [
    ({"model_type": "bert"}, "model_type is 'bert'; convbert_tf loads 'convbert'"),
    ({"hidden_act": "relu"}, "hidden_act is 'relu'"),
    ({"layer_norm_eps": 1e-5}, "layer_norm_eps"),
])
def test_unsupported_configs_are_rejected(tmp_path, changes, message):
    directory = copy_fixture("small_like", str(tmp_path))
    _edit_config(directory, **changes)
    with pytest.raises(ValueError, match=message):
        load_hf_checkpoint(directory)


def test_one_error_lists_all_missing_mismatched_and_unexpected(tmp_path):
    directory = copy_fixture("small_like", str(tmp_path), weights=False)
    state = dict(torch_state("small_like"))
    del state["encoder.layer.0.attention.self.key.bias"]
    del state["embeddings_project.weight"]
    state["encoder.layer.1.intermediate.dense.weight"] = np.zeros((64, 16), "float32")
    state["encoder.layer.1.attention.self.query.weight"] = np.zeros((32, 16), "float32")
    state["encoder.layer.2.output.dense.bias"] = np.zeros((32,), "float32")
    save_file(state, os.path.join(directory, "model.safetensors"))
    with pytest.raises(ValueError) as info:
        load_hf_checkpoint(directory)
    message = str(info.value)
    assert "2 missing tensors" in message
    assert "encoder.layer.0.attention.self.key.bias (expected shape (16,))" in message
    assert "embeddings_project.weight (expected shape (32, 16))" in message
    assert "2 shape mismatches" in message
    assert ("encoder.layer.1.intermediate.dense.weight: expected shape (64, 32) (transposed), "
            "found (64, 16)") in message
    assert ("encoder.layer.1.attention.self.query.weight: expected shape (16, 32) "
            "(transposed), found (32, 16)") in message
    assert "1 unexpected tensors:\n    encoder.layer.2.output.dense.bias" in message
    assert "Nothing was loaded" in message


def test_nothing_is_assigned_when_any_tensor_is_bad():
    backbone = load_hf_checkpoint(fixture_dir("base_like"))
    before = [np.array(w) for w in backbone.weights]
    # Every tensor valid (and different from the loaded values) except one missing.
    tensors = {key: value + 1.0 for key, value in torch_state("base_like").items()}
    del tensors["encoder.layer.1.output.LayerNorm.bias"]
    with pytest.raises(ValueError, match="1 missing tensors"):
        assign_weights(backbone, tensors, hf_torch_sources(backbone), "test")
    for old, variable in zip(before, backbone.weights):
        np.testing.assert_array_equal(old, np.asarray(variable))


def test_cli_reports_bad_checkpoints_without_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["convert", str(tmp_path / "missing"), str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "convbert-tf convert: error:" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out")


# Issue 14 item 8: bad checkpoint files give one clear error each; nothing is assigned and
# nothing from the file is executed.


@pytest.fixture
def assignments(monkeypatch):
    """Records each `assign_weights` call of the HF loader and checks it changed nothing
    when it raised."""
    from convbert_tf.checkpoints import hf_checkpoint

    calls = []
    real = hf_checkpoint.assign_weights

    def spy(model, *args, **kwargs):
        before = [np.array(w) for w in model.weights]
        calls.append(model)
        try:
            return real(model, *args, **kwargs)
        except Exception:
            for old, variable in zip(before, model.weights):
                np.testing.assert_array_equal(old, np.asarray(variable))
            raise

    monkeypatch.setattr(hf_checkpoint, "assign_weights", spy)
    return calls


def test_truncated_safetensors(tmp_path, assignments):
    directory = copy_fixture("small_like", str(tmp_path))
    weights = os.path.join(directory, "model.safetensors")
    data = open(weights, "rb").read()
    with open(weights, "wb") as f:
        f.write(data[: len(data) - 1000])
    with pytest.raises(ValueError, match=r"Cannot read .*model\.safetensors .*truncated"):
        load_hf_checkpoint(directory)
    assert assignments == []


def test_h5_with_missing_groups(tmp_path, assignments):
    import h5py

    directory = copy_fixture("medium_small_like", str(tmp_path), weights=False)
    h5 = os.path.join(directory, "tf_model.h5")
    with open(os.path.join(fixture_dir("medium_small_like"), "tf_model.h5"), "rb") as src, \
            open(h5, "wb") as dst:
        dst.write(src.read())
    with h5py.File(h5, "a") as f:
        layer = "convbert/tf_conv_bert_model/convbert/encoder/layer_._1"
        del f[layer]
    with pytest.raises(ValueError) as info:
        load_hf_checkpoint(directory)
    message = str(info.value)
    assert "missing tensors" in message and "encoder/layer_._1/attention" in message
    assert "Nothing was loaded" in message
    assert len(assignments) == 1  # validated, raised before any variable was written


def test_corrupted_h5(tmp_path, assignments):
    directory = copy_fixture("medium_small_like", str(tmp_path), weights=False)
    data = open(os.path.join(fixture_dir("medium_small_like"), "tf_model.h5"), "rb").read()
    with open(os.path.join(directory, "tf_model.h5"), "wb") as f:
        f.write(data[: len(data) // 3])
    with pytest.raises(ValueError, match="Cannot read .*HDF5"):
        load_hf_checkpoint(directory)
    assert assignments == []


def test_corrupted_zip_bin(tmp_path, assignments):
    directory = copy_fixture("small_like", str(tmp_path), weights=False)
    data = open(os.path.join(fixture_dir("small_like"), "pytorch_model.bin"), "rb").read()
    with open(os.path.join(directory, "pytorch_model.bin"), "wb") as f:
        f.write(data[:-200])  # the zip's central directory is gone
    with pytest.raises(ValueError, match="truncated or corrupted"):
        load_hf_checkpoint(directory)
    assert assignments == []


def test_foreign_pickle_global(tmp_path, assignments):
    import pickle
    import zipfile

    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    directory = copy_fixture("small_like", str(tmp_path / "hub"), weights=False)
    with zipfile.ZipFile(os.path.join(directory, "pytorch_model.bin"), "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": Payload()}, protocol=2))
    with pytest.raises(ValueError, match="global '.*system'.*was not loaded"):
        load_hf_checkpoint(directory)
    assert not marker.exists()
    assert assignments == []
