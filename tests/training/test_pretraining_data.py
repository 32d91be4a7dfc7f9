"""Streaming pretraining data: packing, splitting of long lines, bad corpora, CLI errors."""

import hypothesis
import numpy as np
import pytest

from convbert_tf.preprocessing import ConvBertTokenizer
from convbert_tf.training.pretraining_data import (
    find_text_files,
    full_sentences,
    packed_sequences,
    pretraining_dataset,
    shorten_sequences,
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


def test_short_sequences_end_in_sep_and_padding_and_replay(tokenizer, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("alpha beta gamma delta echo fox golf hotel india juliet\n" * 200)
    packed = packed_sequences([str(corpus)], tokenizer, sequence_length=16)
    full = [e["token_ids"].numpy() for e in packed]
    cls, sep = VOCAB.index("[CLS]"), VOCAB.index("[SEP]")

    def rows(rate, seed=0):
        return [{k: v.numpy() for k, v in e.items()} for e in shorten_sequences(
            packed, rate, seed, sep_token_id=sep, pad_token_id=0)]

    assert all((r["token_ids"] == f).all() for r, f in zip(rows(0.0), full))
    shortened = rows(1.0)
    lengths = [int(r["padding_mask"].sum()) for r in shortened]
    for row, original, n in zip(shortened, full, lengths):
        # [CLS], a prefix of the packed row's body, [SEP], then padding only.
        assert row["token_ids"][0] == cls and row["token_ids"][n - 1] == sep
        np.testing.assert_array_equal(row["token_ids"][1:n - 1], original[1:n - 1])
        assert not row["token_ids"][n:].any() and not row["padding_mask"][n:].any()
        assert 4 <= n <= 16  # body length uniform in [2, L - 2]
    assert len(set(lengths)) > 5
    # A seeded share of the rows, and the same rows on every replay.
    share = np.mean([(r["token_ids"] != f).any() for r, f in zip(rows(0.1), full)])
    assert 0.03 < share < 0.2, share
    again = rows(0.1)
    assert all((a["token_ids"] == b["token_ids"]).all() for a, b in zip(rows(0.1), again))
    assert any((a["token_ids"] != b["token_ids"]).any()
               for a, b in zip(rows(0.5, seed=1), rows(0.5, seed=2)))
    for bad in (-0.1, 1.5, "0.1", True):
        with pytest.raises(ValueError, match="short_sequence_rate"):
            shorten_sequences(packed, bad, 0, sep_token_id=sep, pad_token_id=0)


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


def test_batches_replay_exactly_from_any_start(tokenizer, tmp_path):
    (tmp_path / "a.txt").write_text("alpha beta gamma delta\necho fox golf\nhotel india\n" * 20)
    stream = pretraining_dataset(str(tmp_path), tokenizer, sequence_length=8, batch_size=3,
                                 mask_selection_rate=0.5, seed=4)
    first = [b for b, _ in zip(stream, range(6))]
    resumed = pretraining_dataset(str(tmp_path), tokenizer, sequence_length=8, batch_size=3,
                                  mask_selection_rate=0.5, seed=4, start_batch=4)
    for (x, y, w), (x2, y2, w2) in zip(first[4:], resumed):
        for key in x:
            np.testing.assert_array_equal(x[key], x2[key])
        np.testing.assert_array_equal(y, y2)
        np.testing.assert_array_equal(w, w2)
    # Masks differ from batch to batch (seeded by the batch index), not only by content.
    assert not np.array_equal(first[0][0]["mask_positions"], first[1][0]["mask_positions"])


def test_masking_follows_bert_rates(tokenizer, tmp_path):
    import tensorflow as tf

    from convbert_tf.training.pretraining_data import mask_tokens

    token_ids = tf.constant(np.tile(np.array([[2] + [5 + i % 10 for i in range(126)] + [3]],
                                             "int32"), (64, 1)))
    masked, positions, mask_ids, weights = mask_tokens(
        token_ids, tf.ones_like(token_ids), tf.constant([1, 2]), vocabulary_size=len(VOCAB),
        mask_token_id=4, special_token_ids=[0, 1, 2, 3, 4], mask_selection_length=20)
    assert int(tf.reduce_sum(weights[0])) == 19   # round(0.15 * 126)
    picked = tf.gather(masked, positions, batch_dims=1).numpy()[weights.numpy() > 0]
    original = mask_ids.numpy()[weights.numpy() > 0]
    # 1,216 predictions: 80% [MASK] (std 1.1%), the rest random or kept.
    assert abs((picked == 4).mean() - 0.8) < 0.05
    assert ((picked == 4) | (picked == original)).mean() > 0.85
    unmasked = np.ones(masked.shape, bool)
    np.put_along_axis(unmasked, positions.numpy(), False, axis=1)
    unmasked[:, 0] = True  # padded slots point at position 0 ([CLS]), which stays
    np.testing.assert_array_equal(masked.numpy()[unmasked], token_ids.numpy()[unmasked])


def test_bad_files_are_named(tokenizer, tmp_path):
    binary = tmp_path / "model.txt"
    binary.write_bytes(b"alpha\x00\x01\x02beta\n")
    with pytest.raises(ValueError, match=r"model\.txt.*looks binary \(NUL byte at offset 5\)"):
        find_text_files(str(binary))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("alpha caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.txt.*not UTF-8: invalid byte at offset 9"):
        find_text_files(str(latin1))
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha beta\n")
    (folder / "b.txt").write_text("\n\n")
    with pytest.warns(UserWarning, match="Skipping 1 of 2 corpus file"):
        assert find_text_files(str(folder)) == [str(folder / "a.txt")]


def test_small_corpus_and_unknown_words(tokenizer, tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("alpha beta\n")
    with pytest.raises(ValueError, match=r"packs into only 1 sequence.*fewer than one batch \(4\)"):
        pretraining_dataset(str(small), tokenizer, sequence_length=8, batch_size=4)
    foreign = tmp_path / "foreign.txt"
    foreign.write_text("zulu yankee xray alpha\n" * 40)
    with pytest.warns(UserWarning, match=r"75\.0% of the corpus' word pieces are \[UNK\]"):
        pretraining_dataset(str(foreign), tokenizer, sequence_length=8, batch_size=2)


def test_full_sentences_drop_sst2_phrases():
    lines = ["a gripping , funny film", "funny film", "gripping", "dull", "a dull story"]
    assert sorted(full_sentences(lines)) == ["a dull story", "a gripping , funny film"]


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(hypothesis.strategies.lists(
    hypothesis.strategies.text(alphabet="ab ", max_size=9), max_size=30))
def test_full_sentences_equal_the_plain_substring_rule(lines):
    # The word-run fast path must drop exactly what the substring rule drops: character
    # substrings that are not word runs ("a" in "ab"), double and edge spaces included;
    # an empty line is dropped.
    distinct = set(lines)
    expected = {line for line in distinct
                if line and not any(line in other and line != other for other in distinct)}
    kept = full_sentences(lines)
    assert len(kept) == len(set(kept))
    assert set(kept) == expected


def test_cli_initializer_range_and_temperature_reach_the_run(tmp_path, monkeypatch, capsys):
    import convbert_tf.training.pretraining as pretraining
    from convbert_tf.cli import main

    (tmp_path / "a.txt").write_text("alpha beta gamma delta\n" * 4)
    built = {}

    def fake_pretrain(discriminator, *args, **kwargs):
        built["initializer_range"] = discriminator.initializer_range
        built["temperature"] = kwargs.get("temperature")
        raise SystemExit(0)  # stop before training: only the built model matters here

    monkeypatch.setattr(pretraining, "pretrain", fake_pretrain)
    with pytest.raises(SystemExit):
        main(["pretrain", "--corpus", str(tmp_path), "--preset", "conv_bert_small_en",
              "--initializer-range", "0.05", "--temperature", "2"])
    assert built == {"initializer_range": 0.05, "temperature": 2.0}
    # Trained weights have no initial scale to set: refused, naming the flag.
    (tmp_path / "model").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["pretrain", "--corpus", str(tmp_path / "a.txt"), "--preset",
              str(tmp_path / "model"), "--initializer-range", "0.05"])
    assert exit_info.value.code == 2
    assert "--initializer-range" in capsys.readouterr().err
