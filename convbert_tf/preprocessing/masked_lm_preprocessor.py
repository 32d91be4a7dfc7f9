"""`ConvBertMaskedLMPreprocessor`: strings -> masked-LM inputs and targets."""

import math

import keras
import keras_hub
import tensorflow as tf

from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.convbert_tokenizer import ConvBertTokenizer
from convbert_tf.preprocessing.host_outputs import host_outputs
from convbert_tf.preprocessing.segment_packing import check_sequence_length
from convbert_tf.preprocessing.text_classifier_preprocessor import (
    FixedLengthPacking,
    pack_text_inputs,
)


def make_mask_generator(tokenizer, mask_selection_rate=0.15, mask_selection_length=20,
                        mask_token_rate=0.8, random_token_rate=0.1):
    """keras-hub's `MaskedLMMaskGenerator` for a `ConvBertTokenizer`: BERT's 80/10/10 masking.

    Special tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`, `[UNK]`) are never selected; random
    replacements are drawn from the whole vocabulary. Run it with `apply_mask_generator` (or
    inside `tf.data`), so that it takes its tf.text path.

    Args:
        tokenizer: a `ConvBertTokenizer` (vocabulary size, `[MASK]` id, special ids).
        mask_selection_rate: share of eligible tokens to predict.
        mask_selection_length: width of `mask_positions` (max predictions per sequence).
        mask_token_rate: share of the selected tokens replaced by `[MASK]`.
        random_token_rate: share of the selected tokens replaced by a random token.

    Example:
    >>> masker = make_mask_generator(ConvBertTokenizer(), mask_selection_length=20)
    >>> apply_mask_generator(masker, token_ids)["mask_positions"]  # [batch, 20]
    """
    return keras_hub.layers.MaskedLMMaskGenerator(
        mask_selection_rate=mask_selection_rate,
        mask_selection_length=mask_selection_length,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_token_id=tokenizer.mask_token_id,
        unselectable_token_ids=sorted(tokenizer.special_token_ids),
    )


@tf.function(reduce_retracing=True)
def _masked_in_graph(masker, token_ids):
    return masker(token_ids)


def apply_mask_generator(masker, token_ids):
    """`masker(token_ids)` on keras-hub's TensorFlow path, eagerly too.

    keras-hub's layers run a pure-Python path when called eagerly and their tf.text path in a
    graph; ours always take the latter (eager calls go through a `tf.function`), so eager calls,
    `tf.data` and Grain mask the same way and return the same TF dtypes.
    """
    if tf.executing_eagerly():
        return _masked_in_graph(masker, token_ids)
    return masker(token_ids)


def _check_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a float in [0, 1]. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertMaskedLMPreprocessor(HfPresetMixin, FixedLengthPacking,
                                   keras_hub.models.MaskedLMPreprocessor):
    """Tokenizes, packs and masks text for ConvBERT masked-LM pre-training.

    Packing is the same fixed-length `[CLS] a [SEP] (b [SEP])` path as
    `ConvBertTextClassifierPreprocessor`; masking is keras-hub's
    `MaskedLMMaskGenerator` (tf.text `mask_language_model`): each
    non-special, non-padding token is selected with `mask_selection_rate`,
    a selected token becomes `[MASK]` with `mask_token_rate`, a random token
    with `random_token_rate`, and is otherwise kept. All outputs have static
    shapes (`[batch, sequence_length]` and `[batch, mask_selection_length]`),
    so the batches feed an XLA-compiled model.

    Returns `(x, y, sample_weight)` with
    `x = {"token_ids", "segment_ids", "padding_mask", "mask_positions"}`,
    `y = mask_ids` (original ids at `mask_positions`) and
    `sample_weight = mask_weights` (1.0 for real predictions, 0.0 padding).

    Args:
        tokenizer: a `ConvBertTokenizer`; `None` builds the default one.
        sequence_length: int >= 3, the padded length (default 128).
        mask_selection_rate: float, share of eligible tokens to predict.
        mask_selection_length: int, max predictions per sequence (output
            width of `mask_positions`); `None` means
            `ceil(mask_selection_rate * sequence_length)`, enough that no
            selection is ever dropped (20 for length 128).
        mask_token_rate: float, share of selected tokens replaced by `[MASK]`.
        random_token_rate: float, share replaced by a random token.

    Example:
    ```python
    pre = convbert_tf.ConvBertMaskedLMPreprocessor(sequence_length=128)
    ds = tf.data.Dataset.from_tensor_slices(texts).batch(32).map(pre)
    x, y, sample_weight = next(iter(ds))   # x["mask_positions"]: [32, 20]
    ```
    """

    # Preprocessing sits above the backbones, so it may name them: keras-hub's
    # `from_preset` uses this to check that a preset directory holds a ConvBERT.
    backbone_cls = ConvBertBackbone
    tokenizer_cls = ConvBertTokenizer

    def __init__(self, tokenizer=None, sequence_length=128, mask_selection_rate=0.15,
                 mask_selection_length=None, mask_token_rate=0.8, random_token_rate=0.1,
                 **kwargs):
        check_sequence_length(sequence_length)
        for name, value in (("mask_selection_rate", mask_selection_rate),
                            ("mask_token_rate", mask_token_rate),
                            ("random_token_rate", random_token_rate)):
            _check_rate(value, name)
        if mask_token_rate + random_token_rate > 1:
            raise ValueError(
                "`mask_token_rate + random_token_rate` must be <= 1. Received: "
                f"{mask_token_rate} + {random_token_rate}"
            )
        if mask_selection_length is None:
            mask_selection_length = max(1, math.ceil(mask_selection_rate * sequence_length))
        if isinstance(mask_selection_length, bool) or not isinstance(mask_selection_length, int) \
                or mask_selection_length < 1:
            raise ValueError(
                "`mask_selection_length` must be a positive int or None. "
                f"Received: mask_selection_length={mask_selection_length!r}"
            )
        kwargs.pop("truncate", None)
        tokenizer = ConvBertTokenizer() if tokenizer is None else tokenizer
        if not isinstance(tokenizer, ConvBertTokenizer):
            raise TypeError(
                f"`tokenizer` must be a ConvBertTokenizer. Received: {type(tokenizer).__name__}"
            )
        super().__init__(
            tokenizer=tokenizer,
            sequence_length=sequence_length,
            truncate="round_robin",
            mask_selection_rate=mask_selection_rate,
            mask_selection_length=mask_selection_length,
            mask_token_rate=mask_token_rate,
            random_token_rate=random_token_rate,
            **kwargs,
        )

    def build(self, input_shape):
        # No keras-hub packer (not TFLite-friendly); keras-hub's masker, on its tf.text path.
        self.masker = make_mask_generator(
            self.tokenizer,
            mask_selection_rate=self.mask_selection_rate,
            mask_selection_length=self.mask_selection_length,
            mask_token_rate=self.mask_token_rate,
            random_token_rate=self.random_token_rate,
        )
        self.built = True

    def call(self, x, y=None, sample_weight=None):
        with tf.device("cpu"):
            packed = pack_text_inputs(self.tokenizer, x, self.sequence_length)
            masked = apply_mask_generator(self.masker, packed["token_ids"])
            token_ids = tf.ensure_shape(
                tf.cast(masked["token_ids"], tf.int32), packed["token_ids"].shape
            )
            width = packed["token_ids"].shape[:-1].concatenate([self.mask_selection_length])
            x = {
                "token_ids": token_ids,
                "segment_ids": packed["segment_ids"],
                "padding_mask": packed["padding_mask"],
                "mask_positions": tf.ensure_shape(
                    tf.cast(masked["mask_positions"], tf.int32), width),
            }
            y = tf.ensure_shape(tf.cast(masked["mask_ids"], tf.int32), width)
            sample_weight = tf.ensure_shape(
                tf.cast(masked["mask_weights"], tf.float32), width)
        return host_outputs(keras.utils.pack_x_y_sample_weight(x, y, sample_weight))
