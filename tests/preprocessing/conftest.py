"""Shared fixtures for the preprocessing tests (one default tokenizer per session)."""

import json
import os

import pytest

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@pytest.fixture(scope="session")
def expected():
    with open(os.path.join(DATA_DIR, "tokenizer_expected.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def tokenizer():
    from convbert_tf.preprocessing import ConvBertTokenizer

    return ConvBertTokenizer()
