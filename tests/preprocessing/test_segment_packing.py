"""tflite_friendly_pack: layout, longest-first truncation, builtins-only graph."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from convbert_tf.preprocessing import tflite_friendly_pack, truncated_lengths


def _longest_first(la, lb, budget):
    # Hugging Face `longest_first`: drop from the longer one, ties from b.
    while la + lb > budget:
        if la > lb:
            la -= 1
        else:
            lb -= 1
    return la, lb


def test_truncation_equals_longest_first_exhaustively():
    combos = list(itertools.product(range(0, 14), range(0, 14)))
    la = tf.constant([c[0] for c in combos])
    lb = tf.constant([c[1] for c in combos])
    for L in range(3, 12):
        got_a, got_b = (t.numpy().tolist() for t in truncated_lengths([la, lb], L))
        want = [_longest_first(a, b, L - 3) for a, b in combos]
        assert list(zip(got_a, got_b)) == want, L


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
