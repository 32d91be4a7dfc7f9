"""`ConvBertQuestionAnswerer`: SQuAD-style extractive QA (start / end logits per token)."""

import keras
import keras_hub
from keras import ops

from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.question_answerer_preprocessor import (
    ConvBertQuestionAnswererPreprocessor,
)
from convbert_tf.tasks.heads import head_dense

# Added to padding logits, in float32 (it would overflow float16 / be inexact in bfloat16).
_MASK_VALUE = -1e9


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertQuestionAnswerer(HfPresetMixin, keras_hub.models.Task):
    """A backbone with ELECTRA / BERT's span head: `Dense(2)` on every token's final state.

    Outputs `{"start_logits", "end_logits"}`, each `[batch, seq]` float32, with padding
    positions set to -1e9 so no span starts or ends there; position 0 (`[CLS]`) is the "no
    answer" target. Targets are the token indices `{"start_logits": [batch], "end_logits":
    [batch]}` that `ConvBertQuestionAnswererPreprocessor` produces; the loss is the mean of the
    two cross-entropies (the reference's `(start_loss + end_loss) / 2`).

    Args:
        backbone: a `ConvBertBackbone` or `GroupBertBackbone`.
        preprocessor: a `ConvBertQuestionAnswererPreprocessor` (used by `decode`), or None.

    Example:
    >>> qa = ConvBertQuestionAnswerer(backbone, preprocessor=pre)
    >>> feats = pre.features(questions, contexts)
    >>> out = qa.predict({k: feats[k] for k in ("token_ids", "segment_ids", "padding_mask")})
    >>> pre.decode(out["start_logits"], out["end_logits"], feats, contexts)
    """

    backbone_cls = ConvBertBackbone
    preprocessor_cls = ConvBertQuestionAnswererPreprocessor

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.span_dense = head_dense(backbone, 2, "span_logits")
        # === Functional model ===
        inputs = backbone.input
        logits = ops.cast(self.span_dense(backbone(inputs)["sequence_output"]), "float32")
        real = ops.cast(inputs["padding_mask"], "bool")
        outputs = {
            "start_logits": ops.where(real, logits[..., 0], _MASK_VALUE),
            "end_logits": ops.where(real, logits[..., 1], _MASK_VALUE),
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", jit_compile=True,
                **kwargs):
        """Defaults: Adam 5e-5, cross-entropy on both logits (averaged), accuracy, XLA."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = {name: keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                    for name in ("start_logits", "end_logits")}
            kwargs.setdefault("loss_weights", {"start_logits": 0.5, "end_logits": 0.5})
        if metrics == "auto":
            metrics = {name: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
                       for name in ("start_logits", "end_logits")}
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        jit_compile=jit_compile, **kwargs)

    def preprocess_samples(self, x, y=None, sample_weight=None):
        # The windowing is eager NumPy: `fit` takes the preprocessor's output, not raw text.
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
