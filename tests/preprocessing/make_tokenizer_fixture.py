"""Generates tests/preprocessing/data/tokenizer_expected.json (run once).

Reference: Hugging Face `tokenizers` BertWordPieceTokenizer over the packaged
uncased vocab (BERT's BasicTokenizer + WordPiece: clean_text, CJK spacing,
lower-case, strip accents, max 100 chars/word). `tokenizers` is a bench/dev
extra only; the tests read the JSON and need neither it nor ../shared.

    .venv/bin/python tests/preprocessing/make_tokenizer_fixture.py \
        --glue-dir /work/shared/data/glue
    # Unicode-wide comparison used by docs/preprocessing.md (~1 min):
    .venv/bin/python tests/preprocessing/make_tokenizer_fixture.py --unicode-report
"""

import argparse
import collections
import csv
import hashlib
import json
import os
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VOCAB = os.path.join(REPO, "convbert_tf", "assets", "bert_uncased_vocab.txt")
OUT = os.path.join(HERE, "data", "tokenizer_expected.json")
REPORT = os.path.join(HERE, "data", "normalization_report.json")

PAIR_LENGTHS = (128, 32)

# (name, text, equivalent): `equivalent` is None when ids must equal the
# reference exactly; otherwise the documented difference, given as the text
# that the *reference* must tokenize to our ids (see docs/preprocessing.md).
C0_TO_SPACE = "c0/c1 control: ConvBERT splits like whitespace, reference deletes"
NFKC = "NFKC_Casefold: ConvBERT folds compatibility characters and case fully"
RTE_MOJIBAKE = ("The U.S. handed power on June 30 to Iraq\u00e2\x80\x99s interim government "
                "chosen by the United Nations and Paul Bremer, former governor of Iraq.")
# Cases whose ids on the TFLite graph (no regex kernel: controls split words, as in plain
# FastBert) are recorded too, as the reference's ids of the text with controls -> spaces.
TFLITE_DIFFERS = ("c0_controls", "rte_mojibake_c1_controls", "c1_controls")
EDGE_CASES = [
    ("accents", "Café déjà vu, naïve façade, Ångström, São Paulo, Dvořák, Øre", None),
    ("combining_accents", "Cafe\u0301 nai\u0308ve", None),
    ("cjk", "日本語のテキストと中文字符 한국어 텍스트", None),
    ("cjk_mixed", "ConvBERT是一个模型for NLP任务", None),
    ("emoji", "I love it 😀👍🏽 ❤️ !!", None),
    ("emoji_zwj", "family 👨\u200d👩\u200d👧 emoji", None),
    ("zero_width", "zero\u200bwidth\u200c non\u200djoiner and\ufeffbom soft\u00adhyphen", None),
    ("tab_newline", "tab\there\nnew\r\nline  \u00a0nbsp\u2003em-space", None),
    ("mixed_scripts", "Привет мир hello κόσμε مرحبا שלום नमस्ते สวัสดี", None),
    ("punctuation_runs", "Wait...what?!?! -- (really) [yes] {no} <maybe> \"q\" 'single' "
     "#hash @at $5 %50 ^_^ &amp; *star* ~tilde~ `tick` ¿qué? «guillemets» —dash—", None),
    ("numbers", "1,000,000.50 1.000.000,50 10'000 3/4 2024-01-15 12:30:45 "
     "+1-800-555-0199 1e-10 3.14159 #1 No.5 42nd", None),
    ("word_100_chars", "a" * 100, None),
    ("word_101_chars", "a" * 101, None),
    ("long_word_pieces", "supercalifragilistic" * 6 + " ok", None),
    ("cyrillic_60_chars_120_bytes", "я" * 60, None),
    ("cyrillic_101_chars", "ж" * 101, None),
    ("cjk_run_150", "日" * 150, None),
    ("empty", "", None),
    ("whitespace_only", "   \t\n \u3000 ", None),
    ("unicode_quotes", "“Smart quotes” ‘and’ apostrophes’ ′prime′", None),
    ("greek_final_sigma_upper", "ΟΔΥΣΣΕΥΣ", None),
    # Control (Cc) and format (Cf) characters, private use and U+FFFD: deleted as BERT does
    # (convbert_tf/preprocessing/text_hygiene.py), exact on the tf.data / SavedModel paths.
    ("c0_controls", "bell\x07char nul\x00byte del\x7fchar", None),
    # GLUE RTE dev.tsv line 240 (index 238), verbatim: UTF-8 "'" read as Latin-1.
    ("rte_mojibake_c1_controls", RTE_MOJIBAKE, None),
    ("c1_controls", "next\x85line csi\x9bcode", None),
    ("format_cf", "arabic\u0600number lrm\u200emark word\u2060joiner tag\U000e0041s", None),
    ("private_use_and_replacement", "pua\ue000char rep\ufffdlacement", None),
    ("fullwidth", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３", NFKC),
    ("sharp_s", "Straße Fußball", NFKC),
    ("ligature", "ﬁnance ﬂoor", NFKC),
    ("fractions", "½ cup and ¾ mile", NFKC),
    ("roman_numeral", "Chapter Ⅻ", NFKC),
    ("ellipsis", "wait… what", NFKC),
    ("greek_final_sigma_lower", "κόσμος λόγος", NFKC),
]


def _equivalent_text(text, kind):
    if kind == C0_TO_SPACE:
        return "".join(
            " " if unicodedata.category(c) == "Cc" and c not in "\t\n\r" else c for c in text
        )
    if kind == NFKC:
        return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    raise ValueError(kind)


def reference_tokenizer():
    from tokenizers import BertWordPieceTokenizer

    return BertWordPieceTokenizer(
        VOCAB, lowercase=True, clean_text=True, handle_chinese_chars=True, strip_accents=None
    )


def ref_ids(tok, texts):
    return [e.ids[1:-1] for e in tok.encode_batch(list(texts))]


def read_glue(glue_dir, n_single=120, n_pairs=80):
    def rows(path, quoting):
        with open(path, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t", quoting=quoting))

    sst = rows(os.path.join(glue_dir, "SST-2", "dev.tsv"), csv.QUOTE_NONE)
    cola = rows(os.path.join(glue_dir, "CoLA", "train.tsv"), csv.QUOTE_NONE)
    rte = rows(os.path.join(glue_dir, "RTE", "dev.tsv"), csv.QUOTE_MINIMAL)
    singles = [("SST-2/dev", r["sentence"]) for r in sst[:n_single]]
    # CoLA is lower-cased and pre-split; take every 50th row for variety.
    singles += [("CoLA/train", r["sentence"]) for r in cola[::50][:n_single]]
    pairs = [(r["sentence1"], r["sentence2"]) for r in rte[:n_pairs]]
    return singles, pairs


def make_fixture(glue_dir):
    import tokenizers

    tok = reference_tokenizer()
    singles, pairs = read_glue(glue_dir)
    single_ids = ref_ids(tok, [t for _, t in singles])
    pair_records = []
    for length in PAIR_LENGTHS:
        tok.enable_truncation(max_length=length, strategy="longest_first")
        tok.enable_padding(length=length, pad_id=0, pad_token="[PAD]")
        for (a, b), enc in zip(pairs, tok.encode_batch(pairs)):
            pair_records.append({
                "text_a": a, "text_b": b, "sequence_length": length,
                "token_ids": enc.ids, "segment_ids": enc.type_ids,
                "padding_mask": enc.attention_mask,
            })
        tok.no_truncation()
        tok.no_padding()
    edge = []
    for name, text, kind in EDGE_CASES:
        record = {"name": name, "text": text, "ids": ref_ids(tok, [text])[0],
                  "known_difference": kind}
        if kind is not None:
            record["reference_equivalent_text"] = _equivalent_text(text, kind)
            record["ids_for_equivalent_text"] = ref_ids(tok, [record["reference_equivalent_text"]])[0]
        if name in TFLITE_DIFFERS:
            record["tflite_graph_ids"] = ref_ids(tok, [_equivalent_text(text, C0_TO_SPACE)])[0]
        edge.append(record)
    with open(VOCAB, "rb") as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    fixture = {
        "reference": f"tokenizers {tokenizers.__version__} BertWordPieceTokenizer("
                     "lowercase=True, clean_text=True, handle_chinese_chars=True)",
        "vocab_sha256": vocab_sha,
        "single": [{"source": s, "text": t, "ids": ids}
                   for (s, t), ids in zip(singles, single_ids)],
        "pairs": pair_records,
        "edge_cases": edge,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=0)
    print(f"wrote {OUT}: {len(fixture['single'])} single, {len(pair_records)} pairs, "
          f"{len(edge)} edge cases")


PAIR_TRUNCATION_OUT = os.path.join(HERE, "data", "pair_truncation_hf.json")


def pair_truncation_fixture(max_len=40, lengths=(31, 32)):
    """Kept lengths of `tokenizers`' `longest_first` for every pair of segment lengths up to
    `max_len` (one word piece per word), for the `pair_truncation="huggingface"` test."""
    import tokenizers

    tok = reference_tokenizer()
    records = {}
    for length in lengths:
        tok.enable_truncation(max_length=length, strategy="longest_first")
        grid = [(la, lb) for la in range(max_len + 1) for lb in range(max_len + 1)]
        pairs = [(" ".join(["a"] * la), " ".join(["b"] * lb)) for la, lb in grid]
        kept = []
        for encoding in tok.encode_batch(pairs):
            kept.append([encoding.type_ids.count(0) - 2, encoding.type_ids.count(1) - 1])
        records[str(length)] = {"lengths": grid, "kept": kept}
        tok.no_truncation()
    with open(PAIR_TRUNCATION_OUT, "w", encoding="utf-8") as f:
        json.dump({"reference": f"tokenizers {tokenizers.__version__} BertWordPieceTokenizer "
                                "truncation longest_first", "sequence_lengths": records}, f)
    print(f"wrote {PAIR_TRUNCATION_OUT}")


def _classify(ch):
    cat = unicodedata.category(ch)
    if cat in ("Cn", "Co"):
        return "unassigned_or_private_use"
    if unicodedata.normalize("NFKC", ch) != ch:
        return "nfkc_compatibility"
    if ch.casefold() != ch.lower():
        return "casefold_differs_from_lower"
    if cat == "Cc":
        return "c0_c1_control"
    if cat == "Cf":
        return "format_cf"
    return "unicode_version_or_other_" + cat


def unicode_report():
    """Compares ConvBertTokenizer with the reference on every code point."""
    sys.path.insert(0, REPO)
    from convbert_tf.preprocessing import ConvBertTokenizer

    ours_tok = ConvBertTokenizer()
    tok = reference_tokenizer()
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    diff = {}
    for template in ("{}", "x{}x"):
        for i in range(0, len(cps), 20000):
            chunk = cps[i:i + 20000]
            texts = [template.format(chr(c)) for c in chunk]
            ours = ours_tok.tokenize([t.encode("utf-8") for t in texts]).to_list()
            for c, a, b in zip(chunk, ours, ref_ids(tok, texts)):
                if a != b and c not in diff:
                    diff[c] = (template.format(chr(c)), a, b)
    # The TFLite graph skips the regex clean-up (text_hygiene.py): it can differ only where
    # the clean-up changes the text, so only those code points are re-run without it.
    from convbert_tf.preprocessing.text_hygiene import clean_text, tflite_text_ops

    tflite_diff = {c: d for c, d in diff.items()}
    for template in ("{}", "x{}x"):
        texts = [template.format(chr(c)).encode("utf-8") for c in cps]
        cleaned = clean_text(texts).numpy()
        touched = [(c, t) for c, t, u in zip(cps, texts, cleaned) if t != u]
        with tflite_text_ops():
            ours = ours_tok.tokenize([t for _, t in touched]).to_list()
        refs = ref_ids(tok, [t.decode("utf-8") for _, t in touched])
        for (c, t), a, b in zip(touched, ours, refs):
            if a != b and c not in tflite_diff:
                tflite_diff[c] = (t.decode("utf-8"), a, b)
    tflite_classes = collections.Counter(_classify(chr(c)) for c in tflite_diff)
    classes = collections.Counter(_classify(chr(c)) for c in diff)
    examples = collections.defaultdict(list)
    for c in sorted(diff):
        k = _classify(chr(c))
        if len(examples[k]) < 6:
            examples[k].append({"code_point": f"U+{c:04X}",
                                "name": unicodedata.name(chr(c), "?"),
                                "ours": diff[c][1], "reference": diff[c][2]})
    ranges = {
        "ascii_printable_U+0020-007E": range(0x20, 0x7F),
        "latin1_letters_U+00C0-00FF": range(0xC0, 0x100),
        "cjk_unified_U+4E00-9FFF": range(0x4E00, 0xA000),
    }
    report = {
        "unicode_data_version_python": unicodedata.unidata_version,
        "code_points_compared": len(cps),
        "contexts": ["c", "x c x"],
        "differing_code_points": len(diff),
        "by_class": dict(classes.most_common()),
        "differing_in_ranges": {k: sum(c in diff for c in r) for k, r in ranges.items()},
        "examples": examples,
        "tflite_graph": {
            "note": "the TFLite graph has no regex kernel and skips the control/format "
                    "clean-up; these are its differences (TFLitePredictor cleans on the host)",
            "differing_code_points": len(tflite_diff),
            "by_class": dict(tflite_classes.most_common()),
        },
    }
    with open(REPORT, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    print(json.dumps({k: v for k, v in report.items() if k != "examples"}, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glue-dir", default="/work/shared/data/glue")
    parser.add_argument("--unicode-report", action="store_true")
    parser.add_argument("--pair-truncation", action="store_true")
    args = parser.parse_args()
    if args.unicode_report:
        unicode_report()
    elif args.pair_truncation:
        pair_truncation_fixture()
    else:
        make_fixture(args.glue_dir)
