"""Which operators a `.tflite` flatbuffer needs, and the check that only allowed ones appear.

The converter's own checks are not enough: with `allow_custom_ops=True` (needed for the tf.text
tokenizer ops) any TensorFlow op without a TFLite kernel silently becomes a "custom op" of the
same name, e.g. `RaggedRange`, and the model fails only on the device. And
`model.export(format="litert")` lets Flex (`SELECT_TF_OPS`) ops in by default. So every export
reads the operator codes back from the flatbuffer and raises on anything unexpected.
"""

from tensorflow.lite.python import schema_py_generated as schema

# The tf.text ops our tokenizer graph emits, all registered by
# `tf_text.tflite_registrar.SELECT_TFTEXT_OPS` (Python) and, in C++, by
# `tflite::ops::custom::text::AddFastBertNormalize`, `AddFastWordpieceTokenize` and
# `AddRaggedTensorToTensor` (tensorflow/text: tensorflow_text/core/pybinds/tflite_registrar.cc,
# tensorflow_text/core/kernels/*_tflite.h).
TFTEXT_CUSTOM_OPS = frozenset(
    {"FastBertNormalize", "FastWordpieceTokenizeWithOffsets", "RaggedTensorToTensor"}
)

_BUILTIN_NAMES = {
    value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}


def tflite_op_names(model_content):
    """The set of operator names a TFLite flatbuffer uses.

    Builtins are named as in the schema (`FULLY_CONNECTED`), custom ops by their custom code
    (`FastBertNormalize`, or `FlexEinsum` for a Flex op).

    Args:
        model_content: the `.tflite` bytes.

    Example:
    >>> "FULLY_CONNECTED" in tflite_op_names(open("model.tflite", "rb").read())
    True
    """
    model = schema.Model.GetRootAsModel(bytearray(model_content), 0)
    names = set()
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        # Since schema v3a the real code lives in BuiltinCode; old files use the deprecated one.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            names.add(code.CustomCode().decode("utf-8"))
        else:
            names.add(_BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}"))
    return names


def custom_op_names(op_names):
    """The non-builtin names among `op_names` (builtins are upper-case schema names)."""
    return {name for name in op_names if not (name.isupper() or name.startswith("BUILTIN_"))}


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
