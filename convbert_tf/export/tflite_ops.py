"""Which operators a `.tflite` flatbuffer needs, and the check that only allowed ones appear.

The converter's own checks are not enough: with `allow_custom_ops=True` (needed for the tf.text
tokenizer ops) any TensorFlow op without a TFLite kernel silently becomes a "custom op" of the
same name, e.g. `RaggedRange`, and the model fails only on the device. And
`model.export(format="litert")` lets Flex (`SELECT_TF_OPS`) ops in by default. So every export
reads the operator codes back from the flatbuffer and raises on anything unexpected.
"""

import contextlib
import io
import re

import tensorflow as tf

# The tf.text ops our tokenizer graph emits, all registered by
# `tf_text.tflite_registrar.SELECT_TFTEXT_OPS` (Python) and, in C++, by
# `tflite::ops::custom::text::AddFastBertNormalize`, `AddFastWordpieceTokenize` and
# `AddRaggedTensorToTensor` (tensorflow/text: tensorflow_text/core/pybinds/tflite_registrar.cc,
# tensorflow_text/core/kernels/*_tflite.h).
TFTEXT_CUSTOM_OPS = frozenset(
    {"FastBertNormalize", "FastWordpieceTokenizeWithOffsets", "RaggedTensorToTensor"}
)

# "  Op#3 FULLY_CONNECTED(T#0, ...) -> [T#4]" in `tf.lite.experimental.Analyzer`'s report.
_OP_LINE = re.compile(r"^\s*Op#\d+ ([A-Za-z0-9_]+)\(", re.MULTILINE)


def tflite_op_names(model_content):
    """The set of operator names a TFLite flatbuffer uses.

    Builtins are named as in the schema (`FULLY_CONNECTED`), custom ops by their custom code
    (`FastBertNormalize`, or `FlexEinsum` for a Flex op). Read with the public
    `tf.lite.experimental.Analyzer` (its report lists every op of every subgraph), so no
    private flatbuffer schema module is imported.

    Args:
        model_content: the `.tflite` bytes.

    Example:
    >>> "FULLY_CONNECTED" in tflite_op_names(open("model.tflite", "rb").read())
    True
    """
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        tf.lite.experimental.Analyzer.analyze(model_content=bytes(model_content))
    names = set(_OP_LINE.findall(report.getvalue()))
    if not names:
        raise ValueError("Could not read the operators of this TFLite model (the analyzer "
                         "report listed none); is it a valid .tflite flatbuffer?")
    return names


def custom_op_names(op_names):
    """The non-builtin names among `op_names` (builtins are upper-case schema names)."""
    return {name for name in op_names if not name.isupper()}


def check_ops(model_content, allowed_custom_ops=frozenset()):
    """Raises `ValueError` naming every Flex or custom op not in `allowed_custom_ops`.

    Returns:
        The sorted op names of the model.
    """
    names = tflite_op_names(model_content)
    bad = sorted(custom_op_names(names) - set(allowed_custom_ops))
    if bad:
        flex = [n for n in bad if n.startswith("Flex")]
        raise ValueError(
            f"The converted TFLite model needs ops that a builtins-only interpreter cannot run: "
            f"{bad}" + (f" (Flex ops {flex} need the TF select-ops delegate)" if flex else "")
            + f". Allowed custom ops: {sorted(allowed_custom_ops) or 'none'}. Rewrite the "
            "layer that emits them with TFLite builtins."
        )
    return sorted(names)
