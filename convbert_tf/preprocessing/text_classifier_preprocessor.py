"""`ConvBertTextClassifierPreprocessor`: strings -> fixed-length model inputs."""

import keras
import keras_hub
import tensorflow as tf

from convbert_tf.models import ConvBertBackbone
from convbert_tf.models.preset_backbone import HfPresetMixin
from convbert_tf.preprocessing.convbert_tokenizer import ConvBertTokenizer
from convbert_tf.preprocessing.fixed_length_packer import FixedLengthPacker
from convbert_tf.preprocessing.host_outputs import host_outputs
from convbert_tf.preprocessing.segment_packing import check_pair_truncation, check_sequence_length
from convbert_tf.preprocessing.text_validation import check_string_tensor


class FixedLengthPacking:
    """What the fixed-length preprocessors share (mixed in before the keras-hub base class).

    `sequence_length` lives in keras-hub's `packer` slot, which here holds a
    `FixedLengthPacker` (TFLite-friendly; keras-hub's `MultiSegmentPacker` is not): it is
    validated on every assignment. keras-hub's `truncate` option is dropped from the config:
    truncation is always longest-first here. A single tuple of two texts is a PAIR, not
    `(x, y)`: `pre(("premise", "hypothesis"))`; pass labels as `pre((a, b), y)`.
    """

    def __call__(self, *args, **kwargs):
        if (len(args) == 1 and not kwargs and type(args[0]) is tuple
                and len(args[0]) == 2 and all(_looks_like_text(v) for v in args[0])):
            return super().__call__(x=args[0])
        return super().__call__(*args, **kwargs)

    @property
    def sequence_length(self):
        return self.packer.sequence_length

    @sequence_length.setter
    def sequence_length(self, value):
        # keras-hub's __init__ sets `packer = None` just before `sequence_length`.
        if self.packer is None:
            self.packer = FixedLengthPacker(self.tokenizer, value)
        else:
            self.packer.sequence_length = value

    def get_config(self):
        config = super().get_config()
        config.pop("truncate", None)
        return config


def _looks_like_text(value):
    if isinstance(value, (str, bytes)):
        return True
    if tf.is_tensor(value):
        return value.dtype == tf.string
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, (str, bytes)) for v in value)
    return False


def split_segments(x, name="x"):
    """Normalises `x` to a tuple of 1 or 2 string tensors of rank <= 1."""
    segments = x if isinstance(x, tuple) else (x,)
    if len(segments) not in (1, 2):
        raise ValueError(
            f"`{name}` must be a text or a tuple `(text_a, text_b)` of two texts. "
            f"Received a tuple of {len(segments)} elements."
        )
    names = [name] if len(segments) == 1 else [f"{name}[0] (text_a)", f"{name}[1] (text_b)"]
    segments = tuple(check_string_tensor(s, n) for s, n in zip(segments, names))
    ranks = {s.shape.rank for s in segments}
    if len(ranks) != 1 or ranks.pop() not in (0, 1):
        raise ValueError(
            f"`{name}` segments must all be scalar strings or all 1D batches of "
            f"strings. Received shapes {[s.shape for s in segments]}"
        )
    if len(segments) == 2:
        a, b = segments
        if a.shape.rank == 1:
            if a.shape[0] is not None and b.shape[0] is not None and a.shape[0] != b.shape[0]:
                raise ValueError(
                    "`text_a` and `text_b` must have the same batch size. "
                    f"Received {a.shape[0]} and {b.shape[0]}"
                )
            # Unknown sizes (inside a graph) are checked at run time.
            tf.debugging.assert_equal(
                tf.shape(a)[0], tf.shape(b)[0],
                message="`text_a` and `text_b` must have the same batch size",
            )
    return segments


def pack_text_inputs(tokenizer, x, sequence_length, pair_truncation="convbert"):
    """Tokenizes and packs text or `(text_a, text_b)` into the model's dict.

    The single code path shared by the classifier and masked-LM
    preprocessors (and hence by tf.data, SavedModel and TFLite).
    """
    segments = split_segments(x)
    unbatched = segments[0].shape.rank == 0
    if unbatched:
        segments = tuple(tf.expand_dims(s, 0) for s in segments)
    tokens = tuple(tokenizer.tokenize(s) for s in segments)
    out = FixedLengthPacker(tokenizer, sequence_length, pair_truncation).pack(tokens)
    if unbatched:
        out = {k: v[0] for k, v in out.items()}
    return out



@keras.saving.register_keras_serializable(package="convbert_tf")
class ConvBertTextClassifierPreprocessor(HfPresetMixin, FixedLengthPacking,
                                         keras_hub.models.TextClassifierPreprocessor):
    """Tokenizes and packs single texts or pairs for ConvBERT classifiers.

    Produces `{"token_ids", "segment_ids", "padding_mask"}` (int32,
    `[batch, sequence_length]` or `[sequence_length]` for a scalar input) laid
    out as `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, pairs truncated longest
    first, always padded to the fixed `sequence_length`: ConvBERT's span-based
    convolution does not see the padding mask, so a text must always meet the
    same amount of padding to give the same logits (and XLA wants static
    shapes). Packing is `tflite_friendly_pack`, so this layer's graph converts
    to TFLite with builtins + tf.text custom ops only.

    `y` and `sample_weight` pass through (`keras.utils.pack_x_y_sample_weight`).
    A single tuple argument of two texts is read as a pair `(text_a, text_b)`,
    not as `(x, y)`; pass labels as a second argument: `pre((a, b), y)`.

    Args:
        tokenizer: a `ConvBertTokenizer`; `None` builds the default one.
        sequence_length: int >= 3, the padded length (default 128).
        pair_truncation: who keeps the odd token when both texts of a pair are too long:
            `"convbert"` (default; the official ConvBERT/ELECTRA `_truncate_seq_pair`, the
            first text) or `"huggingface"` (`tokenizers`' `longest_first`, as a fast
            `BertTokenizer`: the longer text, the second at a tie). Only pairs whose budget
            `sequence_length - 3` is odd and whose texts both exceed half of it differ.

    Example:
    ```python
    pre = convbert_tf.ConvBertTextClassifierPreprocessor(sequence_length=16)
    pre("The quick brown fox.")["token_ids"]        # shape [16]
    x, y = pre(["a good film", "bad"], [1, 0])        # shape [2, 16]
    pre((["premise"], ["hypothesis"]))                # sentence pair
    ds = tf.data.Dataset.from_tensor_slices((texts, labels)).batch(256).map(pre)
    ```
    """

    # Preprocessing sits above the backbones, so it may name them: keras-hub's
    # `from_preset` uses this to check that a preset directory holds a ConvBERT.
    backbone_cls = ConvBertBackbone
    tokenizer_cls = ConvBertTokenizer

    def __init__(self, tokenizer=None, sequence_length=128, pair_truncation="convbert",
                 **kwargs):
        check_sequence_length(sequence_length)
        check_pair_truncation(pair_truncation)
        self.pair_truncation = pair_truncation
        kwargs.pop("truncate", None)  # Always longest-first; see segment_packing.
        tokenizer = ConvBertTokenizer() if tokenizer is None else tokenizer
        if not isinstance(tokenizer, ConvBertTokenizer):
            raise TypeError(
                "`tokenizer` must be a ConvBertTokenizer. "
                f"Received: {type(tokenizer).__name__}"
            )
        super().__init__(tokenizer=tokenizer, sequence_length=sequence_length,
                         truncate="round_robin", **kwargs)

    def build(self, input_shape):
        # keras-hub builds a `MultiSegmentPacker` here; we pack with builtins.
        self.built = True

    def pack(self, x):
        """Tokenizes and packs `x` (text or `(text_a, text_b)`) into a dict."""
        return pack_text_inputs(self.tokenizer, x, self.sequence_length, self.pair_truncation)

    def get_config(self):
        config = super().get_config()
        config["pair_truncation"] = self.pair_truncation
        return config

    def call(self, x, y=None, sample_weight=None):
        with tf.device("cpu"):
            x = self.pack(x)
        # keras-hub's output contract: NumPy inside Grain, TF tensors in tf.data.
        return host_outputs(keras.utils.pack_x_y_sample_weight(x, y, sample_weight))
