"""The reloaded SavedModel under concurrent load, as TF Serving or a Python server uses it:
1,200 requests from 8 threads over all three signatures, mixed batch sizes, one in ten invalid.
Every valid answer equals the single-threaded one, every invalid request gets its clear error,
and memory stays flat."""

import concurrent.futures

import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import PAIRS, TEXTS

THREADS = 8
REQUESTS = 1200
# Measured (this test, 2-core VM, 3 runs): RSS grew by 1.1-1.2 MiB over the second round of
# 1,200 concurrent requests, after a first round had warmed every batch size and thread up.
# 16 MiB is ~10x that; a retrace per request (MiBs each) or keeping every answer of a round
# alive inside TF would exceed it.
RSS_GROWTH_BOUND_MIB = 16


def _rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _requests(ids, seed=0):
    """(kind, signature, inputs) tuples; kind "valid" or the expected error's key."""
    rng = np.random.default_rng(seed)
    texts, (pairs_a, pairs_b) = np.array(TEXTS), (np.array(PAIRS[0]), np.array(PAIRS[1]))
    out = []
    for _ in range(REQUESTS):
        batch = int(rng.integers(1, 9))
        rows = rng.integers(0, len(texts), batch)
        choice = rng.random()
        if choice < 0.3:
            out.append(("valid", "serving_default", {"text": tf.constant(texts[rows])}))
        elif choice < 0.55:
            pick = rng.integers(0, len(pairs_a), batch)
            out.append(("valid", "serve_pair", {"text_a": tf.constant(pairs_a[pick]),
                                                "text_b": tf.constant(pairs_b[pick])}))
        elif choice < 0.9:
            out.append(("valid", "serve_ids",
                        {k: tf.constant(v[rows % len(v)]) for k, v in ids.items()}))
        else:
            bad = {k: np.asarray(v[rows % len(v)]) for k, v in ids.items()}
            kind = ["ids_out_of_vocab", "mask_not_binary", "short_ids"][int(rng.integers(3))]
            if kind == "ids_out_of_vocab":
                bad["token_ids"] = bad["token_ids"] + 10**6
            elif kind == "mask_not_binary":
                bad["padding_mask"] = bad["padding_mask"] * 3
            else:
                bad = {k: v[:, : v.shape[1] // 2] for k, v in bad.items()}
            out.append((kind, "serve_ids", {k: tf.constant(v) for k, v in bad.items()}))
    return out


def _reason(error):
    """The human part of a failed assertion: `assertion failed: [<message>]`."""
    text = str(error)
    start = text.find("assertion failed: [")
    end = text.find("] [Condition", start)
    if start < 0 or end < 0:
        return text.splitlines()[0]
    # TF escapes quotes in the printed assertion message.
    return text[start + len("assertion failed: ["):end].replace("\\'", "'")


def _call(signatures, request):
    kind, name, inputs = request
    try:
        return {k: v.numpy() for k, v in signatures[name](**inputs).items()}
    except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
        return error


@pytest.mark.slow
def test_concurrent_requests_equal_single_threaded_and_memory_stays_flat(saved_model_dir,
                                                                          expected):
    signatures = tf.saved_model.load(str(saved_model_dir)).signatures
    requests = _requests(expected["ids"])
    assert {name for _, name, _ in requests} == {"serving_default", "serve_pair", "serve_ids"}
    invalid = [r for r in requests if r[0] != "valid"]
    assert len(invalid) >= 100 and len({r[0] for r in invalid}) == 3

    # Single-threaded answers; also warms up every signature and batch size.
    reference = [_call(signatures, r) for r in requests]
    messages = {}
    for (kind, _, _), answer in zip(requests, reference):
        if kind == "valid":
            assert isinstance(answer, dict), answer
        else:
            assert isinstance(answer, Exception), kind
            messages.setdefault(kind, _reason(answer))
    # Each kind of bad request has one clear message naming what is wrong.
    assert messages == {
        "ids_out_of_vocab": "token_ids must be < vocabulary_size=30522",
        "mask_not_binary": "padding_mask must contain only 0 and 1",
        "short_ids": "token_ids must have shape [batch, 32] (the export's fixed sequence_length)",
    }

    def concurrent_round():
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(lambda r: _call(signatures, r), requests))

    concurrent_round()  # warms the thread pool and any per-thread state
    rss_before = _rss_mib()
    answers = concurrent_round()
    growth = _rss_mib() - rss_before
    print(f"RSS growth over {REQUESTS} concurrent requests: {growth:.1f} MiB")
    for i, ((kind, name, _), got, want) in enumerate(zip(requests, answers, reference)):
        if kind == "valid":
            assert isinstance(got, dict), (i, name, got)
            for key in want:
                np.testing.assert_array_equal(got[key], want[key], err_msg=f"{i} {name} {key}")
        else:
            assert isinstance(got, Exception), (i, kind)
            assert _reason(got) == messages[kind], (i, kind, str(got)[:300])
    assert growth < RSS_GROWTH_BOUND_MIB
