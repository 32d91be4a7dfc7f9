"""`ConvBertTextClassifier`: the official ConvBERT sentence(-pair) classification head."""

import keras
import keras_hub

from convbert_tf.layers.dropout import Dropout
from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
from convbert_tf.tasks.heads import head_dense, resolve_pooling, sentence_features
from convbert_tf.tasks.xla_task import XlaTaskMixin, default_fine_tuning_optimizer


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertTextClassifier(HfPresetMixin, XlaTaskMixin, keras_hub.models.TextClassifier):
    """A ConvBERT / GroupBERT backbone with the official classification head.

    Head: `Dropout(dropout)` then `Dense(num_classes)` (logits, truncated-normal 0.02 init) on the
    first token's final state (`pooling="first_token"`, ConvBERT's official head) or on the
    backbone's `pooled_output` (`pooling="pooled"`, the default for GroupBERT, whose pooler is a
    trained dense), or on the mean of the non-padding tokens' final states (`pooling="mean"`,
    for a briefly pretrained discriminator). With a `preprocessor`, `fit` / `evaluate` /
    `predict` take raw strings, or pairs `(a, b)`, and tokenise them in `tf.data` on the host.

    `compile()` defaults: the recipe's AdamW (`convbert_tf.training.fine_tuning_optimizer` with a
    constant 1e-4; pass your own with a schedule for real runs), sparse categorical
    cross-entropy on logits, accuracy, and `jit_compile=True` (XLA, also under mirrored
    strategies; see `xla_mode`).

    Args:
        backbone: a `ConvBertBackbone`, `GroupBertBackbone` or any backbone with the same inputs
            and `sequence_output` / `pooled_output` outputs.
        num_classes: number of classes (>= 2).
        preprocessor: a `ConvBertTextClassifierPreprocessor`, or None for pre-tokenised input.
        dropout: dropout before the dense (0.1).
        pooling: `"auto"`, `"first_token"`, `"pooled"` or `"mean"` (see above).

    Example:
    >>> backbone = ConvBertBackbone.from_preset("conv_bert_small_en", load_weights=False)
    >>> preprocessor = ConvBertTextClassifierPreprocessor(sequence_length=64)
    >>> classifier = ConvBertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor)
    >>> classifier.fit(["a great film", "dull"], [1, 0], batch_size=2)
    >>> classifier.predict([("A man sleeps.", "Nobody sleeps.")])  # pairs work the same way
    """

    backbone_cls = ConvBertBackbone
    preprocessor_cls = ConvBertTextClassifierPreprocessor

    def __init__(self, backbone, num_classes, preprocessor=None, dropout=0.1, pooling="auto",
                 **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"`num_classes` must be >= 2, got {num_classes}.")
        pooling = resolve_pooling(backbone, pooling)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = Dropout(
            dropout, dtype=backbone.dtype_policy, name="classifier_dropout"
        )
        self.output_dense = head_dense(backbone, num_classes, "logits")
        # === Functional model ===
        inputs, features = sentence_features(backbone, pooling)
        outputs = self.output_dense(self.output_dropout(features))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.num_classes = int(num_classes)
        self.dropout = dropout
        self.pooling = pooling
        self.activation = None  # logits; keras_hub's TextClassifier reads this

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", jit_compile=True,
                **kwargs):
        """Like `keras.Model.compile`, with the fine-tuning defaults described above."""
        if optimizer == "auto":
            optimizer = default_fine_tuning_optimizer(self)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        self._compile_with_xla(jit_compile, optimizer=optimizer, loss=loss, metrics=metrics,
                               **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"num_classes": self.num_classes, "dropout": self.dropout, "pooling": self.pooling}
        )
        return config
