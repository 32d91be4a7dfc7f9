"""`from_preset("hf://ORG/NAME")`: released weights by name, through a local hub cache."""

import os

import numpy as np
import pytest
from huggingface_hub import constants

from convbert_tf.checkpoints import load_hf_checkpoint
from convbert_tf.checkpoints.hf_hub import HubCheckpointError, download_hf_checkpoint, hf_preset
from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from tests.checkpoints.hub_cache import use_offline_hub
from tests.checkpoints.parity import DATA_DIR, assert_parity
from tests.conftest import backbone_batch


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An offline hub cache with the test repositories; conversions go to tmp too."""
    return use_offline_hub(tmp_path, monkeypatch)


def test_convbert_backbone_from_hf_handle_bin(hub):
    backbone = ConvBertBackbone.from_preset("hf://YituTech/conv-bert-small")
    assert_parity(backbone, "small_like")


def test_convbert_backbone_from_hf_handle_h5_only(hub):
    backbone = ConvBertBackbone.from_preset("hf://YituTech/conv-bert-medium-small")
    assert_parity(backbone, "medium_small_like")


def test_groupbert_backbone_from_hf_handle(hub):
    backbone = GroupBertBackbone.from_preset("hf://Graphcore/groupbert-base-uncased")
    direct = load_hf_checkpoint(os.path.join(DATA_DIR, "groupbert_tiny"))
    batch = backbone_batch(vocab=64)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(np.asarray(backbone(batch)[key]),
                                      np.asarray(direct(batch)[key]))


def test_conversion_is_cached_and_overrides_apply(hub):
    first = hf_preset("hf://YituTech/conv-bert-small")
    stamp = os.path.getmtime(os.path.join(first, "model.weights.h5"))
    assert hf_preset("hf://YituTech/conv-bert-small") == first
    assert os.path.getmtime(os.path.join(first, "model.weights.h5")) == stamp
    assert sorted(os.listdir(os.path.dirname(first))) == [os.path.basename(first)]
    backbone = ConvBertBackbone.from_preset("hf://YituTech/conv-bert-small", dropout=0.0)
    assert backbone.dropout == 0.0


def test_unknown_repo_offline_says_what_was_tried(hub):
    with pytest.raises(HubCheckpointError) as info:
        ConvBertBackbone.from_preset("hf://YituTech/conv-bert-huge")
    message = str(info.value)
    assert "config.json of hf://YituTech/conv-bert-huge" in message
    assert "HF_HUB_OFFLINE=1" in message and hub in message and "hf download" in message


def test_no_network_is_one_clear_error(hub, monkeypatch):
    """Online mode without a network: huggingface_hub raises LocalEntryNotFoundError (what it
    raises when the hub cannot be reached and the file is not cached). Simulated: a real
    unreachable endpoint costs 23 s of huggingface_hub's retries (measured)."""
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    def unreachable(**kwargs):
        raise LocalEntryNotFoundError("An error happened while trying to locate the file on "
                                      "the Hub and we cannot find it in the local cache.")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", unreachable)
    with pytest.raises(HubCheckpointError, match="could not be reached.*To work offline"):
        download_hf_checkpoint("hf://nobody/not-cached")


def test_other_model_type_is_named(hub):
    with pytest.raises(ValueError, match="model_type is 'bert'"):
        ConvBertBackbone.from_preset("hf://google-bert/bert-base-uncased")


def test_repo_without_weights(hub):
    with pytest.raises(HubCheckpointError, match="none of model.safetensors, tf_model.h5"):
        download_hf_checkpoint("hf://someone/config-only")


@pytest.mark.parametrize("handle", ["hf://just-a-name", "hf://a/b/c", "YituTech/conv-bert"])
def test_malformed_handles(handle):
    with pytest.raises(ValueError, match="hf://ORG/NAME"):
        download_hf_checkpoint(handle)


def test_cli_converts_a_handle(hub, tmp_path, capsys):
    from convbert_tf.cli import main

    out = str(tmp_path / "preset")
    assert main(["convert", "hf://Graphcore/groupbert-base-uncased", out]) == 0
    assert "GroupBertBackbone" in capsys.readouterr().out
    assert isinstance(GroupBertBackbone.from_preset(out), GroupBertBackbone)


def test_tokenizer_preprocessor_and_task_from_hf_handle(hub):
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor, ConvBertTokenizer
    from convbert_tf.tasks.masked_lm import ConvBertMaskedLM
    from convbert_tf.tasks.text_classifier import ConvBertTextClassifier

    handle = "hf://YituTech/conv-bert-small"
    tokenizer = ConvBertTokenizer.from_preset(handle)  # the repository's vocab.txt
    np.testing.assert_array_equal(np.asarray(tokenizer("hello world")), [60, 61])
    # The fixture allows 32 positions; the default sequence_length is 128.
    preprocessor = ConvBertTextClassifierPreprocessor.from_preset(handle, sequence_length=16)
    classifier = ConvBertTextClassifier.from_preset(handle, num_classes=2,
                                                    preprocessor=preprocessor)
    assert_parity(classifier.backbone, "small_like")
    assert classifier.predict(["hello world", "good film"], verbose=0).shape == (2, 2)
    mlm = ConvBertMaskedLM.from_preset(handle, preprocessor=None)
    assert_parity(mlm.backbone, "small_like")


def test_info_lists_the_hub_handles(capsys):
    from convbert_tf.cli import main
    from convbert_tf.models.presets import HUB_CHECKPOINTS

    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for repo in HUB_CHECKPOINTS:
        assert f"hf://{repo}" in out
    assert "160,217,856 params, ~320 MB" in out and "optimum-graphcore" in out


def test_wrong_backbone_class_is_refused_before_converting(hub, tmp_path):
    with pytest.raises(ValueError, match="'groupbert' model; load it with GroupBertBackbone"):
        ConvBertBackbone.from_preset("hf://Graphcore/groupbert-base-uncased")
    assert not (tmp_path / "converted").exists()
