"""Same ids eagerly, in a reloaded SavedModel (fresh process) and in TFLite."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
from convbert_tf.preprocessing.text_hygiene import tflite_text_ops

LENGTH = 32
TEXTS_A = ["Hello there, world!", "Ça va? 日本語 naïve", "", "x " * 40, "я" * 60]
TEXTS_B = ["short", "a pair of words", "only b", "y " * 40, "ok"]
FORBIDDEN = ("Flex", "RaggedRange", "RaggedGather", "HashTable", "LookupTable")


@pytest.fixture(scope="module")
def pre(tokenizer):
    return ConvBertTextClassifierPreprocessor(tokenizer=tokenizer, sequence_length=LENGTH)


@pytest.fixture(scope="module")
def serve(pre):
    return tf.function(
        lambda a, b: pre.pack((a, b)),
        input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)],
    )


@pytest.fixture(scope="module")
def eager(pre):
    return {k: v.numpy() for k, v in pre((TEXTS_A, TEXTS_B)).items()}


@pytest.mark.subprocess
def test_savedmodel_in_fresh_process(pre, serve, eager, tmp_path):
    module = tf.Module()
    module.pre = pre  # tracks the tokenizer's tf.text resources
    module.serve = serve
    path = str(tmp_path / "preprocessor")
    tf.saved_model.save(module, path, signatures={"serving_default": serve})
    script = (
        "import json, sys, tensorflow as tf, tensorflow_text\n"
        "fn = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "out = fn(a=tf.constant(json.loads(sys.argv[2])), b=tf.constant(json.loads(sys.argv[3])))\n"
        "print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}))\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [sys.executable, "-c", script, path, json.dumps(TEXTS_A), json.dumps(TEXTS_B)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "convbert_tf" not in script
    for key, value in eager.items():
        np.testing.assert_array_equal(got[key], value)


def test_tflite_builtins_plus_tftext_only(pre, eager, tmp_path):
    from ai_edge_litert.interpreter import InterpreterWithCustomOps

    # TFLite has no regex kernel: trace without BERT's control-character clean-up, as
    # `export_tflite` does (text_hygiene.py; these texts have no control characters).
    with tflite_text_ops():
        concrete = tf.function(
            lambda a, b: pre.pack((a, b)),
            input_signature=[tf.TensorSpec([None], tf.string)] * 2,
        ).get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], pre)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True
    path = str(tmp_path / "preprocessor.tflite")
    with open(path, "wb") as f:
        f.write(converter.convert())
    interpreter = InterpreterWithCustomOps(
        custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS, model_path=path
    )
    ops = {d["op_name"] for d in interpreter._get_ops_details()}
    assert not [op for op in ops if any(bad in op for bad in FORBIDDEN)], ops
    assert {"FastBertNormalize", "FastWordpieceTokenizeWithOffsets"} <= ops
    runner = interpreter.get_signature_runner()
    got = runner(a=np.array([t.encode() for t in TEXTS_A]),
                 b=np.array([t.encode() for t in TEXTS_B]))
    for key, value in eager.items():
        np.testing.assert_array_equal(got[key], value)
    # Invalid UTF-8 must not crash the interpreter either.
    bad = runner(a=np.array([b"ok \xff\xfe bad"]), b=np.array([b"fine"]))
    assert bad["token_ids"][0, 0] == 101 and 100 in bad["token_ids"][0].tolist()
