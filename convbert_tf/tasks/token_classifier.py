"""`ConvBertTokenClassifier`: one label per token (NER, POS), ELECTRA's tagging head."""

import keras
import keras_hub

from convbert_tf.layers.dropout import Dropout
from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.token_classifier_preprocessor import (
    ConvBertTokenClassifierPreprocessor,
)
from convbert_tf.tasks.heads import head_dense


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertTokenClassifier(HfPresetMixin, keras_hub.models.Task):
    """A backbone with `Dropout` + `Dense(num_labels)` on every token's final state.

    Outputs `[batch, seq, num_labels]` logits. Train with the
    `ConvBertTokenClassifierPreprocessor`'s `(x, y, sample_weight)`: only each word's first
    piece has weight 1, so the loss and the (weighted) accuracy are per word.

    Args:
        backbone: a `ConvBertBackbone` or `GroupBertBackbone`.
        num_labels: number of tags.
        preprocessor: a `ConvBertTokenClassifierPreprocessor` or None.
        dropout: dropout before the dense (0.1).

    Example:
    >>> tagger = ConvBertTokenClassifier(backbone, num_labels=9, preprocessor=pre)
    >>> tagger.fit(words, word_labels, batch_size=32)
    """

    backbone_cls = ConvBertBackbone
    preprocessor_cls = ConvBertTokenClassifierPreprocessor

    def __init__(self, backbone, num_labels, preprocessor=None, dropout=0.1, **kwargs):
        if int(num_labels) < 1:
            raise ValueError(f"`num_labels` must be >= 1, got {num_labels}.")
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = Dropout(dropout, dtype=backbone.dtype_policy,
                                                   name="tagger_dropout")
        self.output_dense = head_dense(backbone, num_labels, "tag_logits")
        # === Functional model ===
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        outputs = self.output_dense(self.output_dropout(sequence))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.num_labels = int(num_labels)
        self.dropout = dropout

    def compile(self, optimizer="auto", loss="auto", *, weighted_metrics="auto",
                jit_compile=True, **kwargs):
        """Defaults: Adam 5e-5, cross-entropy on logits, weighted accuracy, XLA."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics,
                        jit_compile=jit_compile, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"num_labels": self.num_labels, "dropout": self.dropout})
        return config
