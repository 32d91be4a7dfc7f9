"""`ConvBertMaskedLM`: masked-LM pretraining (ELECTRA's generator head) on any of our backbones."""

import keras
import keras_hub

from convbert_tf.layers.initializers import backbone_initializer
from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.masked_lm_preprocessor import ConvBertMaskedLMPreprocessor


def masked_lm_head(backbone, layer_norm_epsilon=None, name="mlm_head"):
    """The tied MLM head of ELECTRA's `generator_predictions` (and BERT's `cls/predictions`).

    keras-hub's `MaskedLMHead` already is that head: gather the masked positions, Dense to the
    *embedding* width (`D -> E`, it sizes the dense from `token_embedding.output_dim`, so the
    factorised E=128 tables of ConvBERT small work), GELU, LayerNorm, then
    `logits = h @ word_embeddings^T + output_bias` through the tied `ReversibleEmbedding`.

    Args:
        backbone: a backbone with `token_embedding` (a `ReversibleEmbedding`) and `embeddings`.
        layer_norm_epsilon: None to follow the backbone's embedding LayerNorm (1e-12 ConvBERT;
            GroupBERT's `layer_norm_epsilon`, 1e-12 as released).
        name: layer name.
    """
    if layer_norm_epsilon is None:
        layer_norm_epsilon = backbone.embeddings.layer_norm_epsilon
    return keras_hub.layers.MaskedLMHead(
        token_embedding=backbone.token_embedding,
        # Keras' "gelu" is the exact erf form (approximate=False), as the released configs.
        intermediate_activation="gelu",
        layer_norm_epsilon=layer_norm_epsilon,
        kernel_initializer=backbone_initializer(backbone),
        dtype=backbone.dtype_policy,
        name=name,
    )


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertMaskedLM(HfPresetMixin, keras_hub.models.MaskedLM):
    """A ConvBERT / GroupBERT backbone with the tied masked-LM head.

    Inputs are the `ConvBertMaskedLMPreprocessor`'s `x` dict (`token_ids`, `segment_ids`,
    `padding_mask`, `mask_positions`); the output is `[batch, num_masks, vocabulary_size]`
    logits (float32 under mixed precision too, as the head does not autocast). With a
    `preprocessor`, `fit` takes raw strings and masks them on the fly in `tf.data`.

    `compile()` defaults: Adam 5e-5, sparse categorical cross-entropy on logits, weighted
    accuracy over the real (non-padding) predictions, and `jit_compile=True`.

    Args:
        backbone: a `ConvBertBackbone` or `GroupBertBackbone`.
        preprocessor: a `ConvBertMaskedLMPreprocessor` or None for pre-masked inputs.
        layer_norm_epsilon: head LayerNorm epsilon; None follows the backbone.

    Example:
    >>> backbone = ConvBertBackbone.from_preset("conv_bert_small_en", load_weights=False)
    >>> preprocessor = ConvBertMaskedLMPreprocessor(sequence_length=128)
    >>> mlm = ConvBertMaskedLM(backbone, preprocessor=preprocessor)
    >>> mlm.fit(["The quick brown fox.", "A lazy dog."], batch_size=2)
    """

    backbone_cls = ConvBertBackbone
    preprocessor_cls = ConvBertMaskedLMPreprocessor

    def __init__(self, backbone, preprocessor=None, layer_norm_epsilon=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = masked_lm_head(backbone, layer_norm_epsilon)
        # === Functional model ===
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(shape=(None,), dtype="int32", name="mask_positions"),
        }
        sequence = backbone(backbone.input)["sequence_output"]
        outputs = self.masked_lm_head(sequence, inputs["mask_positions"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.layer_norm_epsilon = self.masked_lm_head.layer_norm_epsilon

    def compile(self, optimizer="auto", loss="auto", *, weighted_metrics="auto",
                jit_compile=True, **kwargs):
        """keras-hub's `MaskedLM.compile` defaults, plus XLA on by default."""
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics,
                        jit_compile=jit_compile, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"layer_norm_epsilon": self.layer_norm_epsilon})
        return config
