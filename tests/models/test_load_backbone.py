"""`convbert_tf.load_backbone(path_or_handle)`: every accepted form, and the error for others."""

import os

import keras_hub
import numpy as np
import pytest

import convbert_tf
from convbert_tf.models import ConvBertBackbone, GroupBertBackbone, load_backbone
from tests.checkpoints.checkpoint_writers import write_tf1_checkpoint
from tests.checkpoints.hub_cache import use_offline_hub
from tests.checkpoints.parity import DATA_DIR, assert_parity, fixture_dir, torch_state
from tests.conftest import backbone_batch

TINY_CONVBERT = dict(vocabulary_size=64, num_layers=1, num_heads=2, hidden_dim=16,
                     intermediate_dim=32, embedding_dim=8, conv_kernel_size=3,
                     max_sequence_length=16)
TINY_GROUPBERT = dict(vocabulary_size=64, num_layers=1, num_heads=2, hidden_dim=16,
                      intermediate_dim=32, num_groups=2, conv_kernel_size=3, conv_group_size=8,
                      max_sequence_length=16)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    return use_offline_hub(tmp_path, monkeypatch)


def _same_outputs(a, b):
    batch = backbone_batch(vocab=64)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(np.asarray(a(batch)[key]), np.asarray(b(batch)[key]))


def test_is_exported_at_the_top():
    assert convbert_tf.load_backbone is load_backbone


@pytest.mark.parametrize("name, cls", [("conv_bert_small_en", ConvBertBackbone),
                                       ("group_bert_tiny_en", GroupBertBackbone)])
def test_architecture_preset_name(name, cls):
    backbone = load_backbone(name, dtype="mixed_bfloat16", dropout=0.0)
    assert type(backbone) is cls
    assert backbone.dtype_policy.name == "mixed_bfloat16" and backbone.dropout == 0.0
    expected = cls.presets[name]["config"]
    assert backbone.hidden_dim == expected["hidden_dim"]


@pytest.mark.parametrize("cls, config", [(ConvBertBackbone, TINY_CONVBERT),
                                         (GroupBertBackbone, TINY_GROUPBERT)])
def test_preset_directory(cls, config, tmp_path):
    saved = cls(**config)
    saved.save_to_preset(str(tmp_path / "preset"))
    loaded = load_backbone(tmp_path / "preset")  # path-like too
    assert type(loaded) is cls
    _same_outputs(saved, loaded)


def test_hf_handles(hub):
    assert_parity(load_backbone("hf://YituTech/conv-bert-small"), "small_like")
    groupbert = load_backbone("hf://Graphcore/groupbert-base-uncased")
    assert type(groupbert) is GroupBertBackbone
    _same_outputs(groupbert, convbert_tf.load_hf_checkpoint(os.path.join(DATA_DIR,
                                                                         "groupbert_tiny")))


def test_kaggle_handle(tmp_path, monkeypatch):
    # keras-hub resolves kaggle:// handles through `kagglehub.model_download`: serve a local
    # preset directory in its place (no network here).
    import kagglehub

    saved = ConvBertBackbone(**TINY_CONVBERT)
    saved.save_to_preset(str(tmp_path / "kaggle"))
    requested = []

    def model_download(handle, path=None, **kwargs):
        requested.append(handle)
        return str(tmp_path / "kaggle" / path) if path else str(tmp_path / "kaggle")

    monkeypatch.setattr(kagglehub, "model_download", model_download)
    loaded = load_backbone("kaggle://someone/convbert/keras/tiny/1")
    assert requested and set(requested) == {"someone/convbert/keras/tiny/1"}
    _same_outputs(saved, loaded)


def test_hf_checkpoint_directory():
    assert_parity(load_backbone(fixture_dir("small_like")), "small_like")


def test_tf1_checkpoint_prefix_and_directory(tmp_path):
    prefix = str(tmp_path / "model.ckpt-1000")
    write_tf1_checkpoint(torch_state("small_like"), prefix)
    assert_parity(load_backbone(prefix), "small_like")
    assert_parity(load_backbone(str(tmp_path)), "small_like")


@pytest.mark.parametrize("source, reason", [
    ("conv_bert_huge_en", "does not exist and is no preset name"),
    ("s3://bucket/model", "unsupported scheme"),
    ("", "not a non-empty string"),
    (42, "not a non-empty string"),
])
def test_anything_else_names_the_argument_and_the_accepted_forms(source, reason):
    with pytest.raises(ValueError, match=reason) as info:
        load_backbone(source, argument="--checkpoint")
    message = str(info.value)
    assert message.startswith(f"`--checkpoint` {source!r}")
    for form in ("conv_bert_small_en", "group_bert_tiny_en", "preset directory", "hf://ORG/NAME",
                 "kaggle://", "Hugging Face checkpoint directory", "TF1"):
        assert form in message, form


def test_a_directory_that_is_no_checkpoint(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing to load")
    with pytest.raises(ValueError, match="`path_or_handle` .* is not a checkpoint") as info:
        load_backbone(str(tmp_path))
    assert "Accepted forms" in str(info.value)


def test_checkpoints_take_no_overrides():
    with pytest.raises(ValueError, match="cannot be overridden"):
        load_backbone(fixture_dir("small_like"), dropout=0.0)


def test_another_model_family_is_refused(tmp_path):
    keras_hub.models.BertBackbone(vocabulary_size=64, num_layers=1, num_heads=2, hidden_dim=16,
                                  intermediate_dim=32).save_to_preset(str(tmp_path / "bert"))
    with pytest.raises(ValueError, match="BertBackbone"):
        load_backbone(str(tmp_path / "bert"))
