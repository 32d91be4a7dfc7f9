"""Loading Hugging Face format checkpoints: parity with transformers' ConvBertModel."""

import os
import shutil
import sys

import numpy as np
import pytest
from safetensors.numpy import save_file

from convbert_tf.checkpoints import load_hf_checkpoint
from tests.checkpoints.checkpoint_writers import write_hf_tf_h5
from tests.checkpoints.parity import (
    SHAPES,
    assert_parity,
    copy_fixture,
    fixture_dir,
    torch_state,
)


@pytest.mark.parametrize("shape", SHAPES)
def test_safetensors_matches_reference(shape):
    backbone = load_hf_checkpoint(fixture_dir(shape))
    assert_parity(backbone, shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_tf_model_h5_matches_reference(shape, tmp_path):
    directory = copy_fixture(shape, str(tmp_path), weights=False)
    # A task head in its own top-level layer, as TFConvBertForSequenceClassification saves.
    head = {"classifier/dense/kernel": np.ones((4, 2), "float32")}
    write_hf_tf_h5(torch_state(shape), os.path.join(directory, "tf_model.h5"),
                   extra={"classifier": head})
    backbone = load_hf_checkpoint(directory)
    assert_parity(backbone, shape)
    if shape == "medium_small_like":
        # HF TF stores grouped kernels [out/G, in/G, G]; ours (and torch's) are [G, in/G, out/G].
        kernel = backbone.transformer_layers[1].intermediate_dense.kernel
        assert tuple(kernel.shape) == (2, 24, 48)
        np.testing.assert_array_equal(
            np.asarray(kernel), torch_state(shape)["encoder.layer.1.intermediate.dense.weight"])


def test_prefixed_keys_buffers_and_heads_are_handled(tmp_path):
    """`convbert.`-prefixed keys (task models), the position_ids buffer and heads."""
    shape = "small_like"
    directory = copy_fixture(shape, str(tmp_path), weights=False)
    state = {f"convbert.{key}": value for key, value in torch_state(shape).items()}
    state["convbert.embeddings.position_ids"] = np.arange(32, dtype="int64")[None]
    state["classifier.out_proj.weight"] = np.ones((2, 32), "float32")
    weights = os.path.join(directory, "model.safetensors")
    save_file(state, weights)
    # The weights file itself is accepted as the path, too.
    assert_parity(load_hf_checkpoint(weights), shape)


def test_config_is_mapped():
    backbone = load_hf_checkpoint(fixture_dir("medium_small_like"), dtype="mixed_bfloat16")
    config = backbone.get_config()
    assert {key: config[key] for key in (
        "vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim",
        "embedding_dim", "head_ratio", "conv_kernel_size", "num_groups", "dropout",
        "max_sequence_length", "num_segments")} == {
        "vocabulary_size": 64, "num_layers": 2, "num_heads": 8, "hidden_dim": 48,
        "intermediate_dim": 96, "embedding_dim": 16, "head_ratio": 2, "conv_kernel_size": 9,
        "num_groups": 2, "dropout": 0.1, "max_sequence_length": 32, "num_segments": 2}
    assert backbone.dtype_policy.name == "mixed_bfloat16"
    # Variables stay float32 under a mixed policy, with the checkpoint's exact values.
    table = backbone.embeddings.token_embedding.embeddings
    assert table.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(table),
                                  torch_state("medium_small_like")["embeddings.word_embeddings.weight"])


@pytest.mark.parametrize("blocked", [False, True])
def test_pytorch_model_bin_loads_without_torch(tmp_path, monkeypatch, blocked):
    """small_like/pytorch_model.bin was written by torch.save (make_torch_bin_fixtures.py)."""
    directory = copy_fixture("small_like", str(tmp_path), weights=False)
    shutil.copyfile(os.path.join(fixture_dir("small_like"), "pytorch_model.bin"),
                    os.path.join(directory, "pytorch_model.bin"))
    if blocked:
        monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` would fail
    assert_parity(load_hf_checkpoint(directory), "small_like")


def _h5_datasets(path):
    import h5py

    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: found.__setitem__(name, np.asarray(obj[()]))
                     if isinstance(obj, h5py.Dataset) else None)
    return found


def test_real_transformers_tf_model_h5(tmp_path):
    """A tf_model.h5 written by transformers 4.57's own TFConvBertModel.save_pretrained
    (make_hf_tf_h5_fixture.py): it loads with parity, and the h5 the other tests write
    for the remaining shapes has exactly its dataset names, shapes and values."""
    shape = "medium_small_like"
    real = os.path.join(fixture_dir(shape), "tf_model.h5")
    assert_parity(load_hf_checkpoint(real), shape)

    written = str(tmp_path / "tf_model.h5")
    write_hf_tf_h5(torch_state(shape), written)
    real_datasets, written_datasets = _h5_datasets(real), _h5_datasets(written)
    assert sorted(real_datasets) == sorted(written_datasets)
    for name, value in real_datasets.items():
        np.testing.assert_array_equal(value, written_datasets[name], err_msg=name)
    grouped = "convbert/tf_conv_bert_model/convbert/encoder/layer_._0/intermediate/dense/kernel:0"
    assert real_datasets[grouped].shape == (48, 24, 2)  # [out/G, in/G, G]
