"""GroupBERT tasks are first-class: keras-hub's `from_preset` resolves them from a preset."""

import keras_hub
import numpy as np

from convbert_tf.models import GroupBertBackbone
from convbert_tf.preprocessing import (
    ConvBertTextClassifierPreprocessor,
    ConvBertTokenizer,
    GroupBertTextClassifierPreprocessor,
    GroupBertTokenizer,
)
from convbert_tf.tasks import (
    ConvBertMaskedLM,
    ConvBertTextClassifier,
    GroupBertMaskedLM,
    GroupBertTextClassifier,
)


def tiny_groupbert():
    return GroupBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=16,
                             intermediate_dim=32, num_groups=2, conv_kernel_size=3,
                             conv_group_size=8, dropout=0.0, max_sequence_length=16)


def test_groupbert_task_preset_loads_with_from_preset(tmp_path):
    classifier = GroupBertTextClassifier(
        tiny_groupbert(), num_classes=2,
        preprocessor=GroupBertTextClassifierPreprocessor(sequence_length=16))
    texts = ["a great film", "dull"]
    expected = classifier.predict(texts, verbose=0)
    classifier.save_to_preset(str(tmp_path))

    # From the ConvBERT class, keras-hub's base class and the GroupBERT class alike.
    for cls in (ConvBertTextClassifier, keras_hub.models.TextClassifier,
                GroupBertTextClassifier):
        restored = cls.from_preset(str(tmp_path))
        assert type(restored) is GroupBertTextClassifier, cls
        assert isinstance(restored.backbone, GroupBertBackbone)
        assert isinstance(restored.preprocessor, GroupBertTextClassifierPreprocessor)
        np.testing.assert_allclose(restored.predict(texts, verbose=0), expected, atol=1e-6)

    # The preprocessor and tokenizer resolve the same way.
    assert type(ConvBertTextClassifierPreprocessor.from_preset(str(tmp_path))) is \
        GroupBertTextClassifierPreprocessor
    assert type(ConvBertTokenizer.from_preset(str(tmp_path))) is GroupBertTokenizer


def test_groupbert_masked_lm_from_backbone_preset(tmp_path):
    tiny_groupbert().save_to_preset(str(tmp_path))
    GroupBertTokenizer().save_to_preset(str(tmp_path))
    mlm = ConvBertMaskedLM.from_preset(str(tmp_path))
    assert type(mlm) is GroupBertMaskedLM
    assert isinstance(mlm.backbone, GroupBertBackbone)
