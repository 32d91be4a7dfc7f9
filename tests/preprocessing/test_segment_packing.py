"""tflite_friendly_pack: layout, longest-first truncation (both tie rules), builtins-only graph."""

import itertools
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import tflite_friendly_pack, truncated_lengths

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _truncate_seq_pair(la, lb, budget):
    # The official BERT / ELECTRA / ConvBERT rule: drop from the longer one, ties from b.
    # (Not Hugging Face's `longest_first`, which differs at odd budgets: see below.)
    while la + lb > budget:
        if la > lb:
            la -= 1
        else:
            lb -= 1
    return la, lb


def test_default_truncation_equals_the_official_rule_exhaustively():
    combos = list(itertools.product(range(0, 14), range(0, 14)))
    la = tf.constant([c[0] for c in combos])
    lb = tf.constant([c[1] for c in combos])
    for L in range(3, 12):
        got_a, got_b = (t.numpy().tolist() for t in truncated_lengths([la, lb], L))
        want = [_truncate_seq_pair(a, b, L - 3) for a, b in combos]
        assert list(zip(got_a, got_b)) == want, L


def test_huggingface_truncation_equals_tokenizers_longest_first():
    # Kept lengths from `tokenizers` 0.23.3 for every pair of lengths 0..40 at L = 31 and 32
    # (tests/preprocessing/make_tokenizer_fixture.py --pair-truncation).
    with open(os.path.join(DATA_DIR, "pair_truncation_hf.json")) as handle:
        reference = json.load(handle)["sequence_lengths"]
    differing = 0
    for length, record in reference.items():
        lengths = np.array(record["lengths"], "int32")
        ours = [truncated_lengths([tf.constant(lengths[:, 0]), tf.constant(lengths[:, 1])],
                                  int(length), pair_truncation=rule) for rule in
                ("huggingface", "convbert")]
        hf = np.stack([t.numpy() for t in ours[0]], 1)
        np.testing.assert_array_equal(hf, np.array(record["kept"]), err_msg=length)
        differing += int((hf != np.stack([t.numpy() for t in ours[1]], 1)).any(1).sum())
    # The two rules really differ (odd budget, both segments long), and only there.
    assert differing > 0
    assert [int(n[0]) for n in truncated_lengths([tf.constant([40]), tf.constant([40])], 32)] \
        == [15, 14]
    assert [int(n[0]) for n in truncated_lengths([tf.constant([40]), tf.constant([40])], 32,
                                                  pair_truncation="huggingface")] == [14, 15]


def test_preprocessor_pair_truncation_option():
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor

    pair = (["a " * 40], ["b " * 40])
    kept = {}
    for rule in ("convbert", "huggingface"):
        pre = ConvBertTextClassifierPreprocessor(sequence_length=32, pair_truncation=rule)
        again = ConvBertTextClassifierPreprocessor.from_config(pre.get_config())
        assert again.pair_truncation == rule
        segment_ids = again(pair)["segment_ids"].numpy()[0]
        kept[rule] = (int((segment_ids == 0).sum()) - 2, int((segment_ids == 1).sum()) - 1)
    assert kept == {"convbert": (15, 14), "huggingface": (14, 15)}
    with pytest.raises(ValueError, match="pair_truncation"):
        ConvBertTextClassifierPreprocessor(pair_truncation="longest_first")


def test_pack_pair_layout():
    a = tf.ragged.constant([[7, 8, 9], [5], []])
    b = tf.ragged.constant([[4], [6] * 8, [1]])
    ids, seg, mask = tflite_friendly_pack((a, b), 8, 101, 102, 0)
    np.testing.assert_array_equal(ids, [[101, 7, 8, 9, 102, 4, 102, 0],
                                        [101, 5, 102, 6, 6, 6, 6, 102],
                                        [101, 102, 1, 102, 0, 0, 0, 0]])
    np.testing.assert_array_equal(seg, [[0, 0, 0, 0, 0, 1, 1, 0],
                                        [0, 0, 0, 1, 1, 1, 1, 1],
                                        [0, 0, 1, 1, 0, 0, 0, 0]])
    np.testing.assert_array_equal(mask, np.asarray(ids) != 0)
    assert ids.dtype == seg.dtype == mask.dtype == tf.int32


def test_pack_single_truncates_and_pads():
    a = tf.ragged.constant([[1, 2, 3, 4, 5], []])
    ids, seg, mask = tflite_friendly_pack((a,), 4, 101, 102, 0)
    np.testing.assert_array_equal(ids, [[101, 1, 2, 102], [101, 102, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1], [1, 1, 0, 0]])
    assert not np.asarray(seg).any()


def test_pack_rejects_bad_arguments():
    a = tf.ragged.constant([[1]])
    with pytest.raises(ValueError, match="sequence_length"):
        tflite_friendly_pack((a,), 2, 101, 102, 0)
    with pytest.raises(ValueError, match="1 or 2 segments"):
        tflite_friendly_pack((a, a, a), 8, 101, 102, 0)


def test_graph_has_no_ragged_range_or_gather():
    spec = tf.RaggedTensorSpec([None, None], tf.int32)
    fn = tf.function(lambda a, b: tflite_friendly_pack((a, b), 16, 101, 102, 0))
    graph = fn.get_concrete_function(spec, spec).graph
    op_types = {op.type for op in graph.get_operations()}
    assert not op_types & {"RaggedRange", "RaggedGather", "HashTableV2", "LookupTableFindV2"}
    assert "RaggedTensorToTensor" in op_types
