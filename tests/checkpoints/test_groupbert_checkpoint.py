"""GroupBERT hub checkpoints: parity with an independent port of the upstream PyTorch model."""

import json
import logging
import os
import shutil

import numpy as np
import pytest
from safetensors.numpy import save_file

from convbert_tf.checkpoints import load_hf_checkpoint
from convbert_tf.checkpoints.torch_pickle import load_torch_state_dict
from convbert_tf.models import GroupBertBackbone
from convbert_tf.tasks.masked_lm import ConvBertMaskedLM
from tests.checkpoints.groupbert_upstream_numpy import groupbert_forward
from tests.checkpoints.parity import DATA_DIR
from tests.conftest import backbone_batch

# Measured max |difference| vs the float64 numpy port (fp32 / fp16 fixtures; bench/
# checkpoint_parity.py): sequence 1.3e-6 / 1.5e-6, pooled 1.0e-6 / 7.1e-7, MLM logits
# 6.1e-6 / 5.9e-6; without the convolution bias they are 0.18, 0.15 and 1.1. Bound: the
# issue's 1e-4, 16x the largest measured.
ATOL = 1e-4
FIXTURES = ("groupbert_tiny", "groupbert_tiny_fp16")


def _dir(name):
    return os.path.join(DATA_DIR, name)


def _config(name):
    with open(os.path.join(_dir(name), "config.json")) as f:
        return json.load(f)


def _batch():
    # Padding at the end of row 0, segment ids of 1 in the second half.
    return backbone_batch(batch=2, seq=12, vocab=64, pad_tail=3)


def _reference(state, config, batch):
    return groupbert_forward(state, config, batch["token_ids"], batch["segment_ids"],
                             batch["padding_mask"])


def _max_errors(model, state, config):
    batch = _batch()
    sequence, pooled, logits = _reference(state, config, batch)
    if isinstance(model, ConvBertMaskedLM):
        backbone = model.backbone
        positions = np.tile(np.arange(12, dtype="int32"), (2, 1))
        ours = np.asarray(model({**batch, "mask_positions": positions}))
        # Padded positions are never predicted; compare the real tokens only.
        real = batch["padding_mask"].astype(bool)
        logit_error = float(np.abs(ours - logits)[real].max())
    else:
        backbone, logit_error = model, None
    out = backbone(batch)
    real = batch["padding_mask"].astype(bool)
    seq_error = float(np.abs(np.asarray(out["sequence_output"]) - sequence)[real].max())
    pooled_error = float(np.abs(np.asarray(out["pooled_output"]) - pooled).max())
    return seq_error, pooled_error, logit_error


@pytest.mark.parametrize("name", FIXTURES)
def test_hub_directory_matches_upstream_port(name):
    state = load_torch_state_dict(os.path.join(_dir(name), "pytorch_model.bin"))
    config = _config(name)
    model = load_hf_checkpoint(_dir(name), masked_lm=True)
    assert isinstance(model, ConvBertMaskedLM)
    assert isinstance(model.backbone, GroupBertBackbone)
    seq_error, pooled_error, logit_error = _max_errors(model, state, config)
    assert seq_error < ATOL and pooled_error < ATOL and logit_error < ATOL, (
        seq_error, pooled_error, logit_error)


def test_backbone_config_and_skipped_tensors_are_reported(caplog):
    with caplog.at_level(logging.INFO, logger="convbert_tf.checkpoints.hf_checkpoint"):
        backbone = load_hf_checkpoint(_dir("groupbert_tiny"))
    assert isinstance(backbone, GroupBertBackbone)
    config = backbone.get_config()
    assert {k: config[k] for k in ("vocabulary_size", "num_layers", "num_heads", "hidden_dim",
                                   "intermediate_dim", "num_groups", "conv_kernel_size",
                                   "conv_group_size", "dropout", "attention_dropout",
                                   "layer_norm_epsilon", "use_conv_bias",
                                   "max_sequence_length")} == {
        "vocabulary_size": 64, "num_layers": 2, "num_heads": 2, "hidden_dim": 32,
        "intermediate_dim": 128, "num_groups": 4, "conv_kernel_size": 7, "conv_group_size": 16,
        "dropout": 0.0, "attention_dropout": 0.0, "layer_norm_epsilon": 1e-12,
        "use_conv_bias": True, "max_sequence_length": 32}
    message = caplog.text
    for skipped in ("bert.embeddings.position_ids", "cls.predictions.decoder.weight",
                    "cls.predictions.decoder.bias", "cls.seq_relationship.weight"):
        assert skipped in message


def _write_variant(tmp_path, transform, config_changes=None):
    """The fp32 fixture, transformed, as a safetensors hub directory."""
    state = load_torch_state_dict(os.path.join(_dir("groupbert_tiny"), "pytorch_model.bin"))
    state = transform(dict(state))
    config = {**_config("groupbert_tiny"), **(config_changes or {})}
    directory = tmp_path / "hub"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps(config))
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()},
              str(directory / "model.safetensors"))
    return str(directory), state, config


def test_tf1_variant_without_conv_bias_and_eps_1e3(tmp_path):
    def drop_bias(state):
        return {k: v for k, v in state.items() if not k.endswith("groupconv.bias")}

    directory, state, config = _write_variant(tmp_path, drop_bias, {"layer_norm_eps": 1e-3})
    backbone = load_hf_checkpoint(directory)
    assert backbone.use_conv_bias is False and backbone.layer_norm_epsilon == 1e-3
    seq_error, pooled_error, _ = _max_errors(backbone, state, config)
    assert seq_error < ATOL and pooled_error < ATOL


def test_bare_model_keys_without_prefix_or_heads(tmp_path):
    def bare(state):
        return {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}

    directory, state, config = _write_variant(tmp_path, bare)
    backbone = load_hf_checkpoint(directory)
    full = load_torch_state_dict(os.path.join(_dir("groupbert_tiny"), "pytorch_model.bin"))
    seq_error, pooled_error, _ = _max_errors(backbone, full, config)
    assert seq_error < ATOL and pooled_error < ATOL
    with pytest.raises(ValueError, match="no MLM head"):
        load_hf_checkpoint(directory, masked_lm=True)


def test_bad_head_loads_nothing(tmp_path):
    def bad_head(state):
        state["cls.predictions.bias"] = state["cls.predictions.bias"][:10]
        return state

    directory, _, _ = _write_variant(tmp_path, bad_head)
    with pytest.raises(ValueError, match=r"cls.predictions.bias: expected shape \(64,\)"):
        load_hf_checkpoint(directory, masked_lm=True)


def test_other_model_type_is_named(tmp_path):
    directory = tmp_path / "bert"
    shutil.copytree(_dir("groupbert_tiny"), directory)
    (directory / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="model_type is 'bert'"):
        load_hf_checkpoint(str(directory))


def test_convbert_has_no_mlm_head_to_load():
    with pytest.raises(ValueError, match="masked_lm=True"):
        load_hf_checkpoint(os.path.join(DATA_DIR, "small_like"), masked_lm=True)
