"""The GLUE runner end to end on a tiny STS-B, and the CLI's bad-input errors."""

import importlib.util
import os

import numpy as np
import pytest

from convbert_tf.cli import main
from convbert_tf.models import ConvBertBackbone, load_backbone
from convbert_tf.training.glue import default_learning_rate, run_glue


def write_stsb(root, n_train=16, n_dev=6):
    rng = np.random.default_rng(0)
    words = ["a", "man", "dog", "plays", "runs", "guitar", "park", "the", "cat", "sleeps"]
    os.makedirs(os.path.join(root, "STS-B"))
    for name, n in (("train.tsv", n_train), ("dev.tsv", n_dev)):
        lines = ["index\tgenre\tsentence1\tsentence2\tscore"]
        for i in range(n):
            a, b = (" ".join(rng.choice(words, 4)) for _ in range(2))
            lines.append(f"{i}\tmain\t{a}\t{b}\t{rng.uniform(0, 5):.2f}")
        with open(os.path.join(root, "STS-B", name), "w") as handle:
            handle.write("\n".join(lines) + "\n")


@pytest.mark.slow
def test_stsb_run_reports_pearson_spearman_and_saves_best(tmp_path, capsys):
    write_stsb(str(tmp_path / "glue"))
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, embedding_dim=4, conv_kernel_size=3,
                                max_sequence_length=16)
    out = tmp_path / "run"
    logs = run_glue("stsb", data_dir=str(tmp_path / "glue"), backbone=backbone, epochs=2,
                    batch_size=8, sequence_length=16, output_dir=str(out), verbose=0)
    for key in ("loss", "pearson", "val_loss", "val_pearson", "val_spearman"):
        assert key in logs and np.isfinite(logs[key]), key
    assert -1.0 <= logs["val_spearman"] <= 1.0
    # No --learning-rate: the recipe's rate for the backbone's size, and the runner says so.
    assert "learning rate 0.0003 (recipe default for hidden_dim 8 < 768" in capsys.readouterr().out
    assert (out / "best.keras").is_file()
    events = [name for _, _, files in os.walk(out) for name in files if "events" in name]
    # TensorBoard logs when `tensorboard` is installed (TensorFlow does not pull it in).
    assert bool(events) == (importlib.util.find_spec("tensorboard") is not None)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--task", "sst3"], "invalid choice: 'sst3'"),
        (["--task", "rte", "--data-dir", "{tmp}/nowhere"], "is not a directory"),
        (["--task", "rte", "--data-dir", "{tmp}"], "No rte data under"),
    ],
)
def test_cli_bad_input_fails_fast_with_a_clear_message(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        main(["finetune", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_reports_bad_labels_before_training(tmp_path, capsys):
    os.makedirs(tmp_path / "RTE")
    (tmp_path / "RTE" / "train.tsv").write_text("sentence1\tsentence2\tlabel\na\tb\tmaybe\n")
    (tmp_path / "RTE" / "dev.tsv").write_text("sentence1\tsentence2\tlabel\na\tb\t0\n")
    with pytest.raises(SystemExit):
        main(["finetune", "--task", "rte", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert "train.tsv:2: label 'maybe'" in err


def test_default_learning_rate_follows_the_checkpoints_size(tmp_path):
    # A base-width (768) backbone saved as a preset directory, as `--checkpoint DIR` loads it:
    # the rate must be the recipe's 1e-4 for base, whatever `--preset` says (its default is
    # conv_bert_small_en, whose 3e-4 was used before).
    base_width = ConvBertBackbone(vocabulary_size=64, num_layers=1, num_heads=12, hidden_dim=768,
                                  intermediate_dim=32, embedding_dim=16, conv_kernel_size=3,
                                  max_sequence_length=16)
    base_width.save_to_preset(str(tmp_path / "conv-bert-base"))
    loaded = load_backbone(str(tmp_path / "conv-bert-base"))
    rate, reason = default_learning_rate(loaded)
    assert rate == 1e-4 and "hidden_dim 768" in reason
    small = ConvBertBackbone(vocabulary_size=64, num_layers=1, num_heads=2, hidden_dim=256,
                             intermediate_dim=32, conv_kernel_size=3, max_sequence_length=16)
    assert default_learning_rate(small)[0] == 3e-4


@pytest.mark.parametrize("flag, value", [("--checkpoint", "{tmp}/nowhere"),
                                         ("--preset", "conv_bert_huge_en")])
def test_cli_names_the_backbone_flag_and_the_accepted_forms(tmp_path, capsys, flag, value):
    write_stsb(str(tmp_path))
    with pytest.raises(SystemExit):
        main(["finetune", "--task", "stsb", "--data-dir", str(tmp_path), "--batch-size", "4",
              "--output-dir", str(tmp_path / "out"), flag, value.replace("{tmp}", str(tmp_path))])
    err = capsys.readouterr().err
    assert f"`{flag}`" in err and "Accepted forms" in err and "hf://ORG/NAME" in err


def test_preprocessor_takes_the_checkpoints_vocabulary(tmp_path):
    from convbert_tf.preprocessing import ConvBertTokenizer
    from convbert_tf.training.glue import make_preprocessor

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "film"]
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "vocab.txt").write_text("\n".join(vocabulary) + "\n")
    assert make_preprocessor(str(tmp_path / "hf"), 8).tokenizer.vocabulary_size() == 7
    preset = str(tmp_path / "preset")  # a preset directory with a tokenizer
    ConvBertBackbone(vocabulary_size=7, num_layers=1, num_heads=2, hidden_dim=8,
                     intermediate_dim=16, conv_kernel_size=3,
                     max_sequence_length=8).save_to_preset(preset)
    ConvBertTokenizer(vocabulary=vocabulary).save_to_preset(preset)
    assert make_preprocessor(preset, 8).tokenizer.vocabulary_size() == 7
    assert make_preprocessor(None, 8).tokenizer.vocabulary_size() == 30522


def test_cli_pooling_reaches_the_head(tmp_path, monkeypatch):
    import convbert_tf.training.glue as glue
    from convbert_tf.training.glue_data import get_task

    write_stsb(str(tmp_path / "glue"))
    seen = {}
    monkeypatch.setattr(glue, "run_glue", lambda *args, **kwargs: seen.update(kwargs))
    assert main(["finetune", "--task", "stsb", "--data-dir", str(tmp_path / "glue"),
                 "--pooling", "mean"]) == 0
    assert seen["pooling"] == "mean"
    from convbert_tf.cli.commands.finetune import POOLINGS
    from convbert_tf.tasks.heads import POOLING_CHOICES

    assert POOLINGS == POOLING_CHOICES
    backbone = ConvBertBackbone(vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, max_sequence_length=16)
    assert glue.build_task(get_task("sst2"), backbone, None, pooling="mean").pooling == "mean"
    assert glue.build_task(get_task("stsb"), backbone, None, pooling="mean").pooling == "mean"


def test_bad_pooling_fails_before_a_model_is_built(tmp_path):
    write_stsb(str(tmp_path / "glue"))
    with pytest.raises(ValueError, match="--pooling must be auto or one of"):
        run_glue("stsb", data_dir=str(tmp_path / "glue"), pooling="max", batch_size=8,
                 output_dir=str(tmp_path / "run"))
