"""build_vocabulary: special tokens first, usable by ConvBertTokenizer."""

import pytest

from convbert_tf.preprocessing import SPECIAL_TOKENS, ConvBertTokenizer, build_vocabulary

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Tokenizers split words into pieces; pieces make words!",
    "Café crème, naïve résumé.",
] * 30


def test_build_vocabulary_and_tokenize(tmp_path):
    path = tmp_path / "vocab.txt"
    vocab = build_vocabulary(CORPUS, vocabulary_size=120, reserved_tokens=["[EXTRA]"],
                             lower_thresh=1, output_path=str(path))
    assert vocab[:6] == list(SPECIAL_TOKENS) + ["[EXTRA]"]
    assert len(set(vocab)) == len(vocab) and "the" in vocab and "##s" in vocab
    assert "cafe" in vocab or "c" in vocab  # accents stripped like the tokenizer
    assert not any("é" in t for t in vocab)
    assert path.read_text(encoding="utf-8").splitlines() == vocab
    tok = ConvBertTokenizer(vocabulary=str(path))
    ids = tok("The fox jumps.").numpy().tolist()
    assert tok.unk_token_id not in ids
    assert tok.detokenize(ids).numpy() == b"the fox jumps ."
    assert (tok.pad_token_id, tok.mask_token_id) == (0, 4)


def test_build_vocabulary_validates():
    with pytest.raises(ValueError, match="vocabulary_size"):
        build_vocabulary(CORPUS, vocabulary_size=3)
    with pytest.raises(TypeError, match="texts"):
        build_vocabulary("a single string", vocabulary_size=50)
    with pytest.raises(TypeError, match="reserved_tokens"):
        build_vocabulary(CORPUS, vocabulary_size=50, reserved_tokens=[1])
