"""Loading the official TF1 checkpoints (`electra/...` variables): parity and config."""

import os

import pytest

from convbert_tf.checkpoints import infer_tf1_config, load_tf1_checkpoint
from convbert_tf.checkpoints.hf_config import backbone_config_from_hf, read_json
from tests.checkpoints.checkpoint_writers import write_tf1_checkpoint
from tests.checkpoints.parity import SHAPES, assert_parity, fixture_dir, torch_state


def _write(shape, tmp_path):
    prefix = os.path.join(str(tmp_path), "model.ckpt-1000")
    written = write_tf1_checkpoint(torch_state(shape), prefix)
    return prefix, written


@pytest.mark.parametrize("shape", SHAPES)
def test_tf1_matches_reference_with_inferred_config(shape, tmp_path):
    prefix, written = _write(shape, tmp_path)
    assert "generator/encoder/layer_0/attention/self/query/kernel" in written
    backbone = load_tf1_checkpoint(prefix)
    assert_parity(backbone, shape)
    hf = backbone_config_from_hf(read_json(os.path.join(fixture_dir(shape), "config.json")))
    shapes = {name: value.shape for name, value in written.items()}
    assert infer_tf1_config(shapes) == hf


def test_tf1_explicit_configs_and_directory(tmp_path):
    shape = "medium_small_like"
    _write(shape, tmp_path)
    # The official BertConfig keys (`linear_groups`, no model_type), and a directory path.
    hf_config_path = os.path.join(fixture_dir(shape), "config.json")
    official = {key: value for key, value in read_json(hf_config_path).items()
                if key not in ("model_type", "num_groups")}
    official["linear_groups"] = 2
    assert_parity(load_tf1_checkpoint(str(tmp_path), config=official), shape)


def test_tf1_wrong_config_lists_every_mismatch(tmp_path):
    prefix, _ = _write("small_like", tmp_path)
    wrong = {"vocabulary_size": 64, "num_layers": 2, "num_heads": 4, "hidden_dim": 32,
             "intermediate_dim": 128, "embedding_dim": 16, "max_sequence_length": 32}
    with pytest.raises(ValueError) as info:
        load_tf1_checkpoint(prefix, config=wrong)
    message = str(info.value)
    for layer in (0, 1):
        assert (f"electra/encoder/layer_{layer}/intermediate/dense/kernel: expected shape "
                "(32, 128)") in message
        assert f"electra/encoder/layer_{layer}/output/dense/kernel" in message
    assert "found (32, 64)" in message
