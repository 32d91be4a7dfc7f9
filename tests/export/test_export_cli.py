"""`convbert-tf export ...` and `convbert-tf predict ...`."""

import json

import numpy as np
import pytest

from convbert_tf.cli import main
from tests.export.conftest import TEXTS


@pytest.fixture(scope="module")
def keras_file(classifier, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "task.keras"
    classifier.save(path)
    return path


def test_export_tflite_then_predict(keras_file, expected, tmp_path, capsys):
    out = tmp_path / "m.tflite"
    assert main(["export", "tflite", "--model", str(keras_file), "--output", str(out),
                 "--include-tokenizer", "--quantization", "dynamic_int8"]) == 0
    assert "FastBertNormalize" in capsys.readouterr().out
    assert main(["predict", "--model", str(out), "--json", "--labels", "neg,pos",
                 *TEXTS[:2]]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == TEXTS[:2]
    probs = np.array([[r["probabilities"]["neg"], r["probabilities"]["pos"]] for r in rows])
    expected_probs = np.exp(expected["texts"][:2])
    expected_probs /= expected_probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(probs, expected_probs, atol=2e-2)
    assert [r["label"] for r in rows] == [["neg", "pos"][i] for i in probs.argmax(-1)]


def test_predict_saved_model_pairs(saved_model_dir, expected, capsys):
    assert main(["predict", "--model", saved_model_dir, "--pair-separator", "|||",
                 "A man sleeps. ||| Nobody sleeps."]) == 0
    label, probs, text = capsys.readouterr().out.strip().split("\t")
    assert text == "A man sleeps. ||| Nobody sleeps."
    assert label == str(int(np.argmax(expected["pairs"][0])))


def test_cli_errors_are_one_line(keras_file, saved_model_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        main(["predict", "--model", str(tmp_path / "missing.tflite"), "x"])
    assert error.value.code == 2 and "No TFLite model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", "--model", saved_model_dir, "--pair-separator", "|||", "no sep"])
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "saved-model", "--model", str(keras_file), "--output",
              str(tmp_path / "sm"), "--version", "-3"])
    assert "version" in capsys.readouterr().err


def test_export_saved_model_precision_and_buckets_flags(keras_file, tmp_path, capsys):
    import os

    from convbert_tf.export.batching import BATCHING_FILE, parse_batching_parameters
    from convbert_tf.export.warmup import WARMUP_FILE, read_warmup_requests

    assert main(["export", "saved-model", "--model", str(keras_file), "--output",
                 str(tmp_path / "sm"), "--precision", "bfloat16", "--xla",
                 "--batch-buckets", "1,4", "--warmup-batch-sizes", "4"]) == 0
    export_dir = capsys.readouterr().out.split("Wrote ")[1].strip()
    with open(os.path.join(export_dir, BATCHING_FILE)) as f:
        assert parse_batching_parameters(f.read())["allowed_batch_sizes"] == [1, 4]
    sizes = {next(iter(i.values())).shape[0]
             for _, i in read_warmup_requests(os.path.join(export_dir, WARMUP_FILE))}
    assert sizes == {4}
    with pytest.raises(SystemExit):
        main(["export", "saved-model", "--model", str(keras_file), "--output",
              str(tmp_path / "sm2"), "--batch-buckets", "1,x"])
    assert "--batch-buckets must be comma-separated integers" in capsys.readouterr().err
