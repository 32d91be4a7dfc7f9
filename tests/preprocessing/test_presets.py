"""Tokenizer and preprocessors load from a keras-hub preset directory written with a backbone."""

import keras_hub
import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from convbert_tf.preprocessing import (
    ConvBertMaskedLMPreprocessor,
    ConvBertTextClassifierPreprocessor,
    ConvBertTokenizer,
    GroupBertTokenizer,
)


@pytest.fixture(scope="module")
def preset_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("preset"))
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=32,
                                intermediate_dim=64, max_sequence_length=64)
    backbone.save_to_preset(path)
    ConvBertTokenizer().save_to_preset(path)
    return path


def test_preprocessors_from_preset(preset_dir):
    pre = ConvBertTextClassifierPreprocessor.from_preset(preset_dir, sequence_length=8)
    ids = np.asarray(pre("hello world")["token_ids"])
    np.testing.assert_array_equal(ids, [101, 7592, 2088, 102, 0, 0, 0, 0])
    mlm = ConvBertMaskedLMPreprocessor.from_preset(preset_dir, sequence_length=8)
    x, _, _ = mlm(["hello world"])
    assert x["token_ids"].shape == (1, 8)


def test_groupbert_preset_resolves_the_groupbert_tokenizer(tmp_path):
    # GroupBERT is first-class (issue 13): keras-hub picks the subclass for its backbone.
    GroupBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=32,
                      intermediate_dim=64).save_to_preset(str(tmp_path))
    GroupBertTokenizer().save_to_preset(str(tmp_path))
    assert type(ConvBertTokenizer.from_preset(str(tmp_path))) is GroupBertTokenizer


def test_preset_of_another_backbone_is_refused(tmp_path):
    keras_hub.models.BertBackbone(vocabulary_size=16, num_layers=1, num_heads=1, hidden_dim=4,
                                  intermediate_dim=8).save_to_preset(str(tmp_path))
    with pytest.raises(ValueError, match="BertBackbone"):
        ConvBertTokenizer.from_preset(str(tmp_path))
