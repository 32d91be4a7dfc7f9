"""The serving functions that the SavedModel and the TFLite exports are built from.

One `ServingFunctions` object holds the task, its preprocessor and the fixed sequence length,
and provides three functions with stable names and signatures:

* `serve_text(text)`: `tf.string [None]` -> outputs, tokenisation inside the graph;
* `serve_pair(text_a, text_b)`: two `tf.string [None]` -> outputs, for sentence-pair tasks;
* `serve_ids(token_ids, segment_ids, padding_mask)`: int32 `[None, sequence_length]` -> outputs.

All three end in the same `model_fn` (ids -> outputs). With `jit_compile=True` that function is
a `tf.function(jit_compile=True)`: XLA cannot compile string ops, so only the model part is
compiled and the text endpoints call it after tokenising. The compiled call survives the
SavedModel round trip (the `_XlaMustCompile` attribute is saved with the function).

XLA compiles one program per input shape, so a server that sees arbitrary batch sizes would
compile (~0.5 s each) and keep (~5 MiB each) a program per size. With `batch_buckets` the
endpoints pad each batch up to the smallest bucket that holds it (larger batches run in chunks
of the largest bucket) before the compiled part and slice the answer back, so at most
`len(batch_buckets)` programs ever exist.
"""

import logging

import keras
import tensorflow as tf

from convbert_tf.export.outputs import named_outputs, task_kind
from convbert_tf.preprocessing.segment_packing import check_sequence_length

IDS_KEYS = ("token_ids", "segment_ids", "padding_mask")
# Powers of two up to 64: padding wastes < 2x compute at worst and 7 programs cover any size.
DEFAULT_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)

logger = logging.getLogger(__name__)


def resolve_preprocessor(task, preprocessor=None, sequence_length=None):
    """Returns `(preprocessor or None, sequence_length)` for an export.

    The sequence length defaults to the preprocessor's (the padding the model was trained
    with: ConvBERT's span convolution does not see the padding mask, so the same text padded
    to another length gives other logits), else 128.
    """
    preprocessor = preprocessor if preprocessor is not None else getattr(task, "preprocessor", None)
    if sequence_length is None:
        sequence_length = preprocessor.sequence_length if preprocessor is not None else 128
    check_sequence_length(sequence_length)
    max_length = getattr(task.backbone, "max_sequence_length", None)
    if max_length is not None and sequence_length > max_length:
        raise ValueError(
            f"`sequence_length={sequence_length}` exceeds the backbone's "
            f"max_sequence_length={max_length}."
        )
    if preprocessor is not None and preprocessor.sequence_length != sequence_length:
        logger.warning(
            "Exporting with sequence_length=%d but the preprocessor pads to %d: ConvBERT's "
            "convolution sees padding, so outputs will differ from task.predict.",
            sequence_length, preprocessor.sequence_length,
        )
        preprocessor = type(preprocessor)(
            tokenizer=preprocessor.tokenizer, sequence_length=sequence_length
        )
    return preprocessor, sequence_length


def check_batch_buckets(batch_buckets):
    """`batch_buckets` as a tuple of increasing ints >= 1 (empty for None); raises otherwise."""
    if batch_buckets is None:
        return ()
    buckets = tuple(batch_buckets)
    if not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in buckets) \
            or list(buckets) != sorted(set(buckets)):
        raise ValueError("`batch_buckets` must be strictly increasing ints >= 1, e.g. "
                         f"{DEFAULT_BATCH_BUCKETS}. Received: {batch_buckets!r}")
    return buckets


class ServingFunctions:
    """Builds the export endpoints of a classifier / regressor task.

    Args:
        task: a `ConvBertTextClassifier` / `ConvBertTextRegressor` (or keras-hub TextClassifier
            with the same id inputs).
        preprocessor: overrides `task.preprocessor`; `None` and no task preprocessor leaves only
            the ids endpoint.
        sequence_length: fixed padded length; default: the preprocessor's (see
            `resolve_preprocessor`).
        jit_compile: compile the ids -> outputs part with XLA.
        validate_inputs: check input shapes and id ranges at run time (SavedModel only: the checks are
            host-side `Assert` ops that TFLite drops).
        batch_buckets: increasing batch sizes that the model part is ever called with (see the
            module docstring); None or empty: the model runs on each batch as it comes.

    Example:
    ```python
    functions = ServingFunctions(task, jit_compile=True)
    archive = functions.export_archive(["serving_default", "serve_pair", "serve_ids"])
    archive.write_out("/tmp/model/1")
    ```
    """

    def __init__(self, task, preprocessor=None, sequence_length=None, jit_compile=False,
                 validate_inputs=False, batch_buckets=None):
        self.task = task
        self.kind = task_kind(task)
        self.preprocessor, self.sequence_length = resolve_preprocessor(
            task, preprocessor, sequence_length
        )
        self.validate_inputs = validate_inputs
        backbone = task.backbone
        self.vocabulary_size = int(getattr(backbone, "vocabulary_size", 0)) or None
        self.num_segments = int(getattr(backbone, "num_segments", 0)) or None
        self.batch_buckets = check_batch_buckets(batch_buckets)
        self.model_fn = tf.function(self._model_fn, jit_compile=jit_compile, autograph=False)

    # ---------------------------------------------------------------- signatures
    def ids_signature(self):
        return [tf.TensorSpec([None, self.sequence_length], tf.int32, name=k) for k in IDS_KEYS]

    @staticmethod
    def text_signature():
        return [tf.TensorSpec([None], tf.string, name="text")]

    @staticmethod
    def pair_signature():
        return [tf.TensorSpec([None], tf.string, name="text_a"),
                tf.TensorSpec([None], tf.string, name="text_b")]

    # ----------------------------------------------------------------- functions
    def _model_fn(self, token_ids, segment_ids, padding_mask):
        inputs = {"token_ids": token_ids, "segment_ids": segment_ids,
                  "padding_mask": padding_mask}
        return named_outputs(self.kind, self.task(inputs, training=False))

    def _check_ids(self, token_ids, segment_ids, padding_mask):
        # Outside the XLA function: XLA clamps out-of-range gathers silently and drops asserts.
        length = self.sequence_length
        checks = [
            tf.debugging.assert_equal(
                tf.shape(token_ids)[1], length,
                message=f"token_ids must have shape [batch, {length}] (the export's fixed "
                "sequence_length)"),
            tf.debugging.assert_equal(
                tf.shape(token_ids), tf.shape(segment_ids),
                message="token_ids and segment_ids must have the same shape"),
            tf.debugging.assert_equal(
                tf.shape(token_ids), tf.shape(padding_mask),
                message="token_ids and padding_mask must have the same shape"),
            tf.debugging.assert_non_negative(token_ids, message="token_ids must be >= 0"),
            tf.debugging.assert_non_negative(segment_ids, message="segment_ids must be >= 0"),
            tf.debugging.assert_less_equal(padding_mask, 1,
                                           message="padding_mask must contain only 0 and 1"),
            tf.debugging.assert_non_negative(padding_mask,
                                             message="padding_mask must contain only 0 and 1"),
        ]
        if self.vocabulary_size:
            checks.append(tf.debugging.assert_less(
                token_ids, self.vocabulary_size,
                message=f"token_ids must be < vocabulary_size={self.vocabulary_size}"))
        if self.num_segments:
            checks.append(tf.debugging.assert_less(
                segment_ids, self.num_segments,
                message=f"segment_ids must be < num_segments={self.num_segments}"))
        return checks

    def serve_ids(self, token_ids, segment_ids, padding_mask):
        """int32 ids `[batch, sequence_length]` -> the named outputs."""
        if self.validate_inputs:
            # Every input waits for every check, so the model never starts on bad ids.
            with tf.control_dependencies(self._check_ids(token_ids, segment_ids, padding_mask)):
                token_ids, segment_ids, padding_mask = (
                    tf.identity(token_ids), tf.identity(segment_ids), tf.identity(padding_mask))
        return self.run_model(token_ids, segment_ids, padding_mask)

    def run_model(self, token_ids, segment_ids, padding_mask):
        """ids -> outputs through `model_fn`, bucketed when `batch_buckets` is set."""
        if not self.batch_buckets:
            return self.model_fn(token_ids, segment_ids, padding_mask)
        ids = (token_ids, segment_ids, padding_mask)
        batch = tf.shape(token_ids)[0]
        buckets = tf.constant(self.batch_buckets, tf.int32)
        largest = self.batch_buckets[-1]
        # The smallest bucket >= batch; batches above the largest run in chunks of it.
        chunk = tf.reduce_min(tf.where(buckets >= batch, buckets, largest))
        num_chunks = tf.maximum((batch + chunk - 1) // chunk, 1)
        # Zero rows (an all-padding input) fill the bucket; they are sliced off below and
        # never touch the real rows (nothing in inference mixes examples).
        padded = [tf.pad(x, [[0, num_chunks * chunk - batch], [0, 0]]) for x in ids]
        chunks = [tf.reshape(x, [num_chunks, chunk, self.sequence_length]) for x in padded]
        spec = self.model_fn.get_concrete_function(*self.ids_signature()).structured_outputs
        outputs = tf.map_fn(
            lambda x: self.model_fn(*x), tuple(chunks),
            fn_output_signature={k: tf.TensorSpec(v.shape, v.dtype) for k, v in spec.items()},
        )
        return {k: tf.reshape(v, tf.concat([[-1], tf.shape(v)[2:]], 0))[:batch]
                for k, v in outputs.items()}

    def _pack(self, x):
        if self.preprocessor is None:
            raise ValueError(
                "This task has no preprocessor, so text endpoints cannot be exported. Pass "
                "`preprocessor=ConvBertTextClassifierPreprocessor(...)` or attach one to the task."
            )
        ids = self.preprocessor.pack(x)
        return self.run_model(ids["token_ids"], ids["segment_ids"], ids["padding_mask"])

    def _batch_of_strings(self, text):
        # A restored signature checks dtypes but not shapes, and the tf.text kernels crash
        # the process (SIGSEGV, measured) on a scalar string; `EnsureShape` fails cleanly.
        return tf.ensure_shape(text, [None]) if self.validate_inputs else text

    def serve_text(self, text):
        """`tf.string [batch]` -> the named outputs (tokenised in the graph)."""
        return self._pack(self._batch_of_strings(text))

    def serve_pair(self, text_a, text_b):
        """Two `tf.string [batch]` -> the named outputs for `(text_a, text_b)` pairs."""
        return self._pack((self._batch_of_strings(text_a), self._batch_of_strings(text_b)))

    # ------------------------------------------------------------------ archive
    def endpoints(self, ids_only=False):
        """`{signature name: (function, input signature)}` of every exportable endpoint.

        With `ids_only` (or no preprocessor) `serving_default` is the ids function.
        """
        ids = (self.serve_ids, self.ids_signature())
        if ids_only or self.preprocessor is None:
            return {"serving_default": ids, "serve_ids": ids}
        return {
            "serving_default": (self.serve_text, self.text_signature()),
            "serve_pair": (self.serve_pair, self.pair_signature()),
            "serve_ids": ids,
        }

    def export_archive(self, names, ids_only=False):
        """A `keras.export.ExportArchive` with the endpoints `names` (first = default)."""
        endpoints = self.endpoints(ids_only)
        archive = keras.export.ExportArchive()
        # No `archive.track(...)`: the variables the endpoints read are collected from the
        # traced functions, and the tokenizer's tf.text models are graph constants, not
        # resources. Tracking the task would make `write_out` walk (and trace for
        # serialisation) every function hanging off it, e.g. `train_function` after `fit`:
        # 3x slower here, for nothing. The fresh-process test guards this.
        for name in names:
            fn, signature = endpoints[name]
            archive.add_endpoint(name, fn, input_signature=signature)
        return archive
