"""ConvBertTokenizer: reference-exact ids, vocab handling, config round trips."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import ConvBertTokenizer, default_vocabulary_path
from convbert_tf.preprocessing.vocabulary import load_vocabulary

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_default_vocab_and_special_ids(tokenizer):
    assert tokenizer.vocabulary_size() == 30522
    assert os.path.isfile(default_vocabulary_path())
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.cls_token_id,
            tokenizer.sep_token_id, tokenizer.mask_token_id) == (0, 100, 101, 102, 103)
    assert tokenizer.id_to_token(7592) == "hello"
    assert tokenizer.token_to_id("##ing") == 2075
    assert tokenizer.get_vocabulary()[101] == "[CLS]"
    with pytest.raises(ValueError, match="`token`"):
        tokenizer.token_to_id("definitely-not-a-token")
    with pytest.raises(ValueError, match="`id`"):
        tokenizer.id_to_token(30522)


def test_fixture_sentences_match_reference(tokenizer, expected):
    texts = [r["text"] for r in expected["single"]]
    ours = tokenizer.tokenize(texts).to_list()
    mismatches = [(t, o, r["ids"]) for t, o, r in zip(texts, ours, expected["single"])
                  if o != r["ids"]]
    assert len(texts) == 240
    assert not mismatches, mismatches[:3]


@pytest.mark.parametrize("i", range(33))
def test_edge_cases(tokenizer, expected, i):
    case = expected["edge_cases"][i]
    ours = tokenizer.tokenize(case["text"]).numpy().tolist()
    if case["known_difference"] is None:
        assert ours == case["ids"], case["name"]
    else:
        # Documented NFKC / control-character behaviour (docs/preprocessing.md):
        # ours equals the reference on the equivalent text, and really differs.
        assert ours == case["ids_for_equivalent_text"], case["name"]
        assert ours != case["ids"], case["name"]


def test_word_limit_counts_characters_not_bytes(tokenizer):
    # 60 Cyrillic letters = 120 UTF-8 bytes: BERT (chars) keeps the word,
    # plain FastBert (bytes) would give [UNK].
    assert tokenizer.tokenize("я" * 60).numpy().tolist()[0] != tokenizer.unk_token_id
    assert tokenizer.tokenize("я" * 101 + " ok").numpy().tolist() == [100, 7929]
    assert tokenizer.tokenize("a" * 101 + " b " + "a" * 100).numpy().tolist()[:3] == [100, 1038, 13360]
    rows = tokenizer.tokenize(["x " * 3, "ж" * 101, "", "ok"]).to_list()
    assert rows == [[1060, 1060, 1060], [100], [], [7929]]


def test_live_reference_on_sst2_dev(tokenizer):
    tokenizers = pytest.importorskip("tokenizers")
    path = os.path.join(REPO, "examples", "data", "sst2", "dev.tsv")
    with open(path, encoding="utf-8") as f:
        texts = [line.split("\t")[0] for line in f.read().splitlines()[1:]]
    ref = tokenizers.BertWordPieceTokenizer(default_vocabulary_path(), lowercase=True)
    ref_ids = [e.ids[1:-1] for e in ref.encode_batch(texts)]
    assert tokenizer.tokenize(texts).to_list() == ref_ids


def test_detokenize(tokenizer):
    ids = tokenizer.tokenize(["Hello, Tokenization!", "naïve"])
    assert tokenizer.detokenize(ids).numpy().tolist() == [b"hello , tokenization !", b"naive"]
    assert tokenizer.detokenize([7592, 2088]).numpy() == b"hello world"


def test_custom_vocab_list_and_file(tmp_path):
    vocab = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]", "the", "fox", "##es", "."]
    tok = ConvBertTokenizer(vocabulary=vocab)
    assert (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id) == (1, 0, 2)
    assert tok("The foxes.").numpy().tolist() == [5, 6, 7, 8]
    assert tok("dog").numpy().tolist() == [0]
    path = tmp_path / "v.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    assert ConvBertTokenizer(vocabulary=str(path)).get_vocabulary() == vocab


def test_custom_vocab_missing_special_token():
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        ConvBertTokenizer(vocabulary=["[UNK]", "[PAD]", "[CLS]", "[SEP]", "a"])
    with pytest.raises(ValueError, match="`vocabulary`"):
        ConvBertTokenizer(vocabulary="/no/such/vocab.txt")
    with pytest.raises(ValueError, match="`vocabulary`"):
        ConvBertTokenizer(vocabulary=42)


def test_config_round_trip_and_assets(tmp_path, tokenizer):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]
    tok = ConvBertTokenizer(vocabulary=vocab, max_word_length=4)
    clone = ConvBertTokenizer.from_config(tok.get_config())
    assert clone.get_vocabulary() == vocab and clone.max_word_length == 4
    assert clone("hello world").numpy().tolist() == [1, 1]  # 5 chars > 4 -> [UNK]
    tok.save_assets(str(tmp_path))
    fresh = ConvBertTokenizer(vocabulary=vocab[:6])
    fresh.load_assets(str(tmp_path))
    assert fresh.get_vocabulary() == vocab
    default_cfg = tokenizer.get_config()
    assert default_cfg["vocabulary"] is None  # package data, not inlined
    restored = keras.layers.deserialize(keras.layers.serialize(tokenizer))
    assert isinstance(restored, ConvBertTokenizer) and restored.vocabulary_size() == 30522


def test_inside_tf_function_and_dtype(tokenizer):
    fn = tf.function(lambda s: tokenizer(s).to_tensor())
    np.testing.assert_array_equal(fn(tf.constant(["hello world"])), [[7592, 2088]])
    assert ConvBertTokenizer(dtype="int64")("hi").dtype == tf.int64
    with pytest.raises(ValueError, match="`dtype`"):
        ConvBertTokenizer(dtype="float32")
    assert load_vocabulary(default_vocabulary_path())[103] == "[MASK]"
