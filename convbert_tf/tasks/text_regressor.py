"""`ConvBertTextRegressor`: one real-valued output per text (pair), e.g. STS-B similarity."""

import keras
import keras_hub

from convbert_tf.layers.dropout import Dropout
from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
from convbert_tf.tasks.heads import head_dense, resolve_pooling, sentence_features
from convbert_tf.tasks.xla_task import XlaTaskMixin, default_fine_tuning_optimizer


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertTextRegressor(HfPresetMixin, XlaTaskMixin, keras_hub.models.Task):
    """A backbone with the official head reduced to one output: Dropout + Dense(1).

    This is how ELECTRA / ConvBERT fine-tune STS-B: the classifier head with a single unit and a
    mean-squared-error loss. Outputs are `[batch, 1]` floats; targets are `[batch]` floats.

    `compile()` defaults: the recipe's AdamW (constant 1e-4), MSE loss, MSE metric,
    `jit_compile=True`.

    Args:
        backbone: a `ConvBertBackbone` / `GroupBertBackbone`.
        preprocessor: a `ConvBertTextClassifierPreprocessor` or None.
        dropout: dropout before the dense (0.1).
        pooling: `"auto"`, `"first_token"`, `"pooled"` or `"mean"` (as
            `ConvBertTextClassifier`).

    Example:
    >>> regressor = ConvBertTextRegressor(backbone, preprocessor=preprocessor)
    >>> regressor.fit([("A man plays.", "A man is playing.")], [4.8], batch_size=1)
    """

    backbone_cls = ConvBertBackbone
    preprocessor_cls = ConvBertTextClassifierPreprocessor

    def __init__(self, backbone, preprocessor=None, dropout=0.1, pooling="auto", **kwargs):
        pooling = resolve_pooling(backbone, pooling)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.output_dropout = Dropout(
            dropout, dtype=backbone.dtype_policy, name="regressor_dropout"
        )
        self.output_dense = head_dense(backbone, 1, "prediction")
        # === Functional model ===
        inputs, features = sentence_features(backbone, pooling)
        outputs = self.output_dense(self.output_dropout(features))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.dropout = dropout
        self.pooling = pooling

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", jit_compile=True,
                **kwargs):
        """Like `keras.Model.compile`, with the defaults described above."""
        if optimizer == "auto":
            optimizer = default_fine_tuning_optimizer(self)
        if loss == "auto":
            loss = keras.losses.MeanSquaredError()
        if metrics == "auto":
            metrics = [keras.metrics.MeanSquaredError(name="mse")]
        self._compile_with_xla(jit_compile, optimizer=optimizer, loss=loss, metrics=metrics,
                               **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"dropout": self.dropout, "pooling": self.pooling})
        return config
