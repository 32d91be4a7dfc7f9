"""Streaming pretraining data: packing, splitting of long lines, bad corpora, CLI errors."""

import numpy as np
import pytest

from convbert_tf.preprocessing import ConvBertTokenizer
from convbert_tf.training.pretraining_data import (
    find_text_files,
    packed_sequences,
    pretraining_dataset,
)

WORDS = ["alpha", "beta", "gamma", "delta", "echo", "fox", "golf", "hotel", "india", "juliet"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]


@pytest.fixture(scope="module")
def tokenizer():
    return ConvBertTokenizer(vocabulary=VOCAB)


def ids(words):
    return [VOCAB.index(w) for w in words.split()]


def test_greedy_packing_and_long_lines_are_split(tokenizer, tmp_path):
    corpus = tmp_path / "c.txt"
    # 12 tokens > capacity 6: split into 6 + 6, never dropped; blank lines are skipped.
    long_line = "alpha beta gamma delta echo fox golf hotel india juliet alpha beta"
    corpus.write_text("alpha beta\n\ngamma delta echo\n" + long_line + "\nfox golf\nhotel\n")
    rows = [{k: v.numpy() for k, v in e.items()}
            for e in packed_sequences([str(corpus)], tokenizer, sequence_length=8)]
    cls, sep = VOCAB.index("[CLS]"), VOCAB.index("[SEP]")
    expected = [
        [cls, *ids("alpha beta gamma delta echo"), sep, 0],
        [cls, *ids("alpha beta gamma delta echo fox"), sep],
        [cls, *ids("golf hotel india juliet alpha beta"), sep],
        [cls, *ids("fox golf hotel"), sep, 0, 0, 0],
    ]
    np.testing.assert_array_equal([r["token_ids"] for r in rows], expected)
    np.testing.assert_array_equal(rows[0]["padding_mask"], [1] * 7 + [0])
    np.testing.assert_array_equal(rows[3]["padding_mask"], [1] * 5 + [0] * 3)
    assert all(not r["segment_ids"].any() for r in rows)
    # Every token of the corpus appears exactly once, in order.
    content = [t for r in rows for t in r["token_ids"] if t not in (cls, sep, 0)]
    assert content == ids("alpha beta gamma delta echo " + long_line + " fox golf hotel")


def test_masked_batches_have_static_shapes(tokenizer, tmp_path):
    (tmp_path / "a.txt").write_text("alpha beta gamma delta\necho fox golf\n" * 5)
    (tmp_path / "ignored.csv").write_text("not,text\n")
    ds = pretraining_dataset(str(tmp_path), tokenizer, sequence_length=8, batch_size=3,
                             mask_selection_rate=0.5, seed=1)
    x, y, w = next(iter(ds))
    assert x["token_ids"].shape == (3, 8) and x["mask_positions"].shape == (3, 4)
    assert y.shape == (3, 4) and w.shape == (3, 4)
    positions, weights = x["mask_positions"].numpy(), w.numpy()
    assert (positions[weights > 0] > 0).all()  # [CLS] at 0 is never selected


def test_bad_corpora(tokenizer, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n")
    with pytest.raises(ValueError, match="empty"):
        pretraining_dataset(str(empty), tokenizer)
    no_text = tmp_path / "no_text"
    no_text.mkdir()
    (no_text / "data.csv").write_text("a,b\n")
    with pytest.raises(FileNotFoundError, match="No text files"):
        find_text_files(str(no_text))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_text_files(str(tmp_path / "missing.txt"))


def test_cli_reports_bad_corpus_clearly(tmp_path, capsys):
    from convbert_tf.cli import main

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--corpus", str(empty), "--preset", "conv_bert_small_en"])
    assert exit_info.value.code == 2
    assert "No text files" in capsys.readouterr().err
