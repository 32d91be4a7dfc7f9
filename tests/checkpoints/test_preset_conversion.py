"""`convert_checkpoint` / `convbert-tf convert`: preset directories that round-trip exactly."""

import json
import os

import numpy as np

from convbert_tf.checkpoints import convert_checkpoint
from convbert_tf.cli import main
from convbert_tf.models import ConvBertBackbone
from tests.checkpoints.checkpoint_writers import write_tf1_checkpoint
from tests.checkpoints.parity import assert_parity, copy_fixture, expected, torch_state


def test_hf_to_preset_round_trip(tmp_path):
    shape = "medium_small_like"
    src = copy_fixture(shape, str(tmp_path / "src"))
    vocabulary = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n"
    with open(os.path.join(src, "vocab.txt"), "w") as f:
        f.write(vocabulary)
    dst = str(tmp_path / "preset")
    converted = convert_checkpoint(src, dst)
    assert os.path.isfile(os.path.join(dst, "config.json"))
    assert os.path.isfile(os.path.join(dst, "model.weights.h5"))
    with open(os.path.join(dst, "assets", "tokenizer", "vocabulary.txt")) as f:
        assert f.read() == vocabulary

    restored = ConvBertBackbone.from_preset(dst)
    inputs, _ = expected(shape)
    np.testing.assert_array_equal(np.asarray(converted(inputs)["sequence_output"]),
                                  np.asarray(restored(inputs)["sequence_output"]))
    assert_parity(restored, shape)


def test_cli_converts_tf1_with_inline_config(tmp_path, capsys):
    shape = "small_like"
    write_tf1_checkpoint(torch_state(shape), str(tmp_path / "model.ckpt-7"))
    with open(copy_fixture(shape, str(tmp_path / "hf"), weights=False) + "/config.json") as f:
        config = json.load(f)
    dst = str(tmp_path / "preset")
    code = main(["convert", str(tmp_path), dst, "--format", "tf1",
                 "--config", json.dumps(config)])
    assert code == 0
    assert "ConvBertBackbone with" in capsys.readouterr().out
    assert not os.path.exists(os.path.join(dst, "assets"))  # no vocab.txt in the source
    assert_parity(ConvBertBackbone.from_preset(dst), shape)
