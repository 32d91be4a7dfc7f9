"""Shared pytest setup: quiet TensorFlow logs, deterministic seeds, common fixtures."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Every test starts from the same seed and from float32."""
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def backbone_batch(batch=2, seq=12, vocab=100, pad_tail=3, seed=0):
    """Random ids with padding at the end of row 0 and non-zero segment ids."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(1, vocab, size=(batch, seq)).astype("int32")
    padding_mask = np.ones((batch, seq), "int32")
    if pad_tail:
        padding_mask[0, -pad_tail:] = 0
        token_ids[0, -pad_tail:] = 0
    segment_ids = np.zeros((batch, seq), "int32")
    segment_ids[:, seq // 2 :] = 1
    segment_ids *= padding_mask
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}
