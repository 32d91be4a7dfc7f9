"""`export_tflite`: a task -> one `.tflite` file, optionally with the tokenizer inside."""

import os
import tempfile

import numpy as np
import tensorflow as tf

from convbert_tf.export.serving_functions import ServingFunctions
from convbert_tf.export.tflite_ops import TFTEXT_CUSTOM_OPS, check_ops
from convbert_tf.preprocessing.text_hygiene import tflite_text_ops

QUANTIZATIONS = (None, "float16", "dynamic_int8", "int8")
#: Op types a full-int8 model keeps in float. The attention's additive padding bias
#: (`(1 - mask) * -10000`: SUB, MUL) shares one int8 scale with the scores it is ADDed to, so
#: the scale step becomes ~40 and every real score rounds to the same value: attention turns
#: uniform and the model lands at chance (measured: 62% label agreement with float, accuracy
#: 0.510 on SST-2 dev). Keeping SUB, MUL, ADD (the residual adds share the op type) and SOFTMAX
#: in float brings agreement to 99.7% (docs/export.md); the matmuls (FULLY_CONNECTED,
#: BATCH_MATMUL), which hold nearly all the FLOPs, stay int8.
INT8_FLOAT_OPS = ("ADD", "MUL", "SOFTMAX", "SUB")


def _check_quantization(quantization, include_tokenizer, representative_texts):
    if quantization not in QUANTIZATIONS:
        raise ValueError(
            f"`quantization` must be one of {list(QUANTIZATIONS)}. Received: {quantization!r}"
        )
    if quantization == "int8":
        if include_tokenizer:
            raise ValueError(
                "quantization='int8' cannot include the tokenizer: calibration runs the model "
                "in a TFLite interpreter without the tf.text custom ops. Export the ids model "
                "(include_tokenizer=False) or use 'dynamic_int8'."
            )
        if not representative_texts:
            raise ValueError(
                "quantization='int8' needs `representative_texts` (a few hundred typical "
                "inputs: strings or (text_a, text_b) pairs) to calibrate activation ranges."
            )


def _representative_dataset(functions, texts):
    if functions.preprocessor is None:
        raise ValueError("quantization='int8' needs a preprocessor to tokenize "
                         "`representative_texts`.")
    texts = list(texts)

    def generate():
        for text in texts:
            x = (tf.constant([text[0]]), tf.constant([text[1]])) \
                if isinstance(text, tuple) else tf.constant([text])
            ids = functions.preprocessor.pack(x)
            yield {k: ids[k].numpy().astype(np.int32) for k in ids}

    return generate


def _configure(converter, quantization, functions, representative_texts):
    if quantization is None:
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        converter.representative_dataset = _representative_dataset(functions,
                                                                   representative_texts)
        # Int8 kernels where they exist; the few ops without one (e.g. the id GATHER of the
        # position table, CAST of the int32 mask) stay in float. Inputs stay int32 ids and
        # outputs float32.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                               tf.lite.OpsSet.TFLITE_BUILTINS]


def _quantized_with_float_ops(converter):
    """Calibrates, then quantizes every op except `INT8_FLOAT_OPS` (TF's public selective
    quantization: `tf.lite.experimental.QuantizationDebugger` with `denylisted_ops`)."""
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(
            denylisted_ops=list(INT8_FLOAT_OPS)))
    return debugger.get_nondebug_quantized_model()


def export_tflite(task, path, quantization=None, include_tokenizer=False, sequence_length=None,
                  representative_texts=None, *, preprocessor=None, overwrite=False):
    """Converts `task` to a TFLite flatbuffer at `path` (builtins only, checked).

    * `include_tokenizer=False`: one signature `serving_default` with int32 inputs
      `token_ids`, `segment_ids`, `padding_mask` `[batch, sequence_length]`; builtin ops only.
    * `include_tokenizer=True`: signatures `serving_default` (`text`), `serve_pair`
      (`text_a`, `text_b`) and `serve_ids`; builtins + the tf.text custom ops
      `FastBertNormalize`, `FastWordpieceTokenizeWithOffsets`, `RaggedTensorToTensor`. Run it
      with `InterpreterWithCustomOps(custom_op_registerers=
      tf_text.tflite_registrar.SELECT_TFTEXT_OPS)` (C++: see docs/export.md).

    Outputs are `logits` + `probabilities` (classifiers) or `predictions` (regressors). The
    batch dimension is dynamic (`resize_tensor_input`, or a signature runner, resizes it); the
    sequence length is fixed at export: ConvBERT's span convolution is not masked, so the model
    must see the padding it was trained with, and TFLite plans memory for static shapes. Any op
    outside the allowed set (Flex ops, stray TF ops) raises `ValueError` naming it.

    Args:
        task: a `ConvBertTextClassifier` / `ConvBertTextRegressor`.
        path: the `.tflite` file to write.
        quantization: None (float32), `"float16"` (fp16 weights), `"dynamic_int8"` (int8
            weights, float activations) or `"int8"` (int8 weights and activations, calibrated
            on `representative_texts`; the attention masking, residual adds and softmax stay
            float, see `INT8_FLOAT_OPS`; measured accuracy cost in docs/export.md).
        include_tokenizer: put tokenisation inside the model (needs a preprocessor).
        sequence_length: fixed length; default: the preprocessor's (128 without one).
        representative_texts: texts or `(text_a, text_b)` pairs for `"int8"` calibration.
        preprocessor: overrides `task.preprocessor`.
        overwrite: replace an existing file instead of raising.

    Returns:
        The sorted list of op names in the written model.

    Example:
    ```python
    export_tflite(classifier, "sst2_fp16.tflite", quantization="float16",
                  include_tokenizer=True)
    ```
    """
    _check_quantization(quantization, include_tokenizer, representative_texts)
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path!r} exists; pass overwrite=True (--overwrite) to replace it.")
    functions = ServingFunctions(task, preprocessor, sequence_length)
    if include_tokenizer and functions.preprocessor is None:
        raise ValueError(
            "include_tokenizer=True needs a preprocessor, but the task has none. Attach a "
            "ConvBertTextClassifierPreprocessor to the task or pass `preprocessor=`."
        )
    # Without the tokenizer the ids function is the model's only (default) signature.
    names = ["serving_default", "serve_pair", "serve_ids"] if include_tokenizer \
        else ["serving_default"]
    with tempfile.TemporaryDirectory() as saved_model_dir:
        # TFLite has no regex kernel: trace the tokenizer without BERT's control-character
        # clean-up (see preprocessing/text_hygiene.py; TFLitePredictor cleans on the host).
        # `write_out` traces the endpoints too, so it stays inside the block.
        with tflite_text_ops():
            archive = functions.export_archive(names, ids_only=not include_tokenizer)
            archive.write_out(saved_model_dir, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir,
                                                             signature_keys=names)
        # Builtins only: the converter itself fails on any op needing Flex.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        converter.allow_custom_ops = include_tokenizer
        _configure(converter, quantization, functions, representative_texts)
        model = _quantized_with_float_ops(converter) if quantization == "int8" \
            else converter.convert()
    ops = check_ops(model, TFTEXT_CUSTOM_OPS if include_tokenizer else frozenset())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model)
    return ops
