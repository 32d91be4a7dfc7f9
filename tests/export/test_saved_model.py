"""SavedModel export: fresh-process parity (only tensorflow + tensorflow_text imported), XLA
kept after reload, the three signatures, warmup records, clear errors, versioning."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.export.conftest import PAIRS, SEQUENCE_LENGTH, TEXTS

# Runs in a fresh interpreter: what TF Serving links is TF + tf.text, nothing of ours.
FRESH_SCRIPT = r"""
import json, sys, numpy as np
import tensorflow as tf, tensorflow_text
assert not any(m.startswith(("convbert_tf", "keras_hub")) for m in sys.modules), "leak"
path, texts, pairs, requests = sys.argv[1], *map(json.loads, sys.argv[2:4]), sys.argv[4]
sig = tf.saved_model.load(path).signatures
out = {"signatures": sorted(sig)}
def run(name, **kw):
    return {k: v.numpy().tolist() for k, v in sig[name](**kw).items()}
out["texts"] = run("serving_default", text=tf.constant(texts))
out["pairs"] = run("serve_pair", text_a=tf.constant(pairs[0]), text_b=tf.constant(pairs[1]))
warm = np.load(requests, allow_pickle=True)
out["warmup"] = []
for i in range(int(warm["n"])):
    name = str(warm[f"{i}_name"])
    inputs = {k.split("/", 1)[1]: tf.constant(warm[k]) for k in warm.files
              if k.startswith(f"{i}/")}
    out["warmup"].append([name, {k: list(v.shape) for k, v in sig[name](**inputs).items()}])
ids = {k: tf.constant(np.asarray(v, np.int32)) for k, v in json.loads(sys.argv[5]).items()}
out["ids"] = run("serve_ids", **ids)
def error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    return None
L = ids["token_ids"].shape[1]
short = {k: v[:, : L // 2] for k, v in ids.items()}
out["errors"] = {
    "int64_ids": error(lambda: sig["serve_ids"](**{k: tf.cast(v, tf.int64) for k, v in ids.items()})),
    "short_ids": error(lambda: sig["serve_ids"](**short)),
    "ids_out_of_vocab": error(lambda: sig["serve_ids"](token_ids=ids["token_ids"] + 10**6,
        segment_ids=ids["segment_ids"], padding_mask=ids["padding_mask"])),
    "mask_not_binary": error(lambda: sig["serve_ids"](token_ids=ids["token_ids"],
        segment_ids=ids["segment_ids"], padding_mask=ids["padding_mask"] * 3)),
    "int_text": error(lambda: sig["serving_default"](text=tf.constant([1, 2]))),
    "scalar_text": error(lambda: sig["serving_default"](text=tf.constant("one text"))),
}
print(json.dumps(out))
"""


def _warmup_npz(saved_model_dir, path):
    from convbert_tf.export.warmup import WARMUP_FILE, read_warmup_requests

    requests = read_warmup_requests(os.path.join(saved_model_dir, WARMUP_FILE))
    arrays = {"n": len(requests)}
    for i, (name, inputs) in enumerate(requests):
        arrays[f"{i}_name"] = name
        arrays.update({f"{i}/{k}": v for k, v in inputs.items()})
    np.savez(path, **arrays)
    return requests


@pytest.fixture(scope="module")
def fresh(saved_model_dir, expected, tmp_path_factory):
    npz = str(tmp_path_factory.mktemp("warmup") / "requests.npz")
    requests = _warmup_npz(saved_model_dir, npz)
    ids = {k: v[:2].tolist() for k, v in expected["ids"].items()}
    # Level 0 so TF logs "Compiled cluster using XLA!" when the reloaded model compiles.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [sys.executable, "-c", FRESH_SCRIPT, saved_model_dir, json.dumps(TEXTS),
         json.dumps([list(PAIRS[0]), list(PAIRS[1])]), npz, json.dumps(ids)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr, requests


@pytest.mark.subprocess
def test_fresh_process_matches_keras_on_texts_pairs_and_ids(fresh, expected):
    out, _, _ = fresh
    assert out["signatures"] == ["serve_ids", "serve_pair", "serving_default"]
    np.testing.assert_allclose(out["texts"]["logits"], expected["texts"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(out["pairs"]["logits"], expected["pairs"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(out["ids"]["logits"], expected["texts"][:2], atol=1e-5, rtol=0)
    probs = np.asarray(out["texts"]["probabilities"])
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.log(probs[:, 1] / probs[:, 0]),
                               np.diff(expected["texts"], axis=-1)[:, 0], atol=1e-4)


@pytest.mark.subprocess
def test_reloaded_model_still_compiles_with_xla(fresh):
    assert "Compiled cluster using XLA" in fresh[1]


@pytest.mark.subprocess
def test_warmup_records_cover_every_signature_and_run(fresh):
    out, _, requests = fresh
    covered = {(name, next(iter(inputs.values())).shape[0]) for name, inputs in requests}
    assert covered == {(s, b) for s in ("serving_default", "serve_pair", "serve_ids")
                       for b in (1, 2)}
    for name, shapes in out["warmup"]:
        assert shapes["logits"][1] == 2 and shapes["probabilities"][1] == 2, name


@pytest.mark.subprocess
def test_bad_inputs_give_clear_errors(fresh):
    errors = fresh[0]["errors"]
    assert all(errors.values()), errors
    assert "int64" in errors["int64_ids"] or "int32" in errors["int64_ids"]
    assert str(SEQUENCE_LENGTH) in errors["short_ids"]
    assert "token_ids must be < vocabulary_size=30522" in errors["ids_out_of_vocab"]
    assert "padding_mask must contain only 0 and 1" in errors["mask_not_binary"]
    assert "string" in errors["int_text"]
    assert "shape" in errors["scalar_text"].lower() or "()" in errors["scalar_text"]


@pytest.mark.subprocess
def test_saved_model_cli_lists_the_three_signatures(saved_model_dir):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    command = [cli] if os.path.exists(cli) else \
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    proc = subprocess.run(command + ["show", "--dir", saved_model_dir, "--all"],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("serving_default", "serve_pair", "serve_ids"):
        assert f"signature_def['{name}']" in proc.stdout
    for tensor in ("text", "text_a", "text_b", "token_ids", "logits", "probabilities"):
        assert f"['{tensor}'] tensor_info" in proc.stdout
    assert f"shape: (-1, {SEQUENCE_LENGTH})" in proc.stdout


def test_layout_is_tf_serving_versions(saved_model_dir):
    base = os.path.dirname(saved_model_dir)
    assert os.path.basename(saved_model_dir) == "1"
    assert os.listdir(base) == ["1"]  # no staging directory left behind
    assert os.path.isfile(os.path.join(saved_model_dir, "saved_model.pb"))
    assert os.path.isfile(
        os.path.join(saved_model_dir, "assets.extra", "tf_serving_warmup_requests"))


def test_existing_version_is_never_silently_overwritten(classifier, saved_model_dir):
    from convbert_tf.export import export_saved_model

    base = os.path.dirname(saved_model_dir)
    stamp = os.path.getmtime(os.path.join(saved_model_dir, "saved_model.pb"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_saved_model(classifier, base, version=1)
    assert os.path.getmtime(os.path.join(saved_model_dir, "saved_model.pb")) == stamp


def test_versions_and_overwrite(tmp_path):
    from convbert_tf.export.versioning import publish, resolve_version, staging_dir

    base = str(tmp_path / "model")
    assert resolve_version(base) == os.path.join(base, "1")
    os.makedirs(os.path.join(base, "3"))
    os.makedirs(os.path.join(base, "7"))
    open(os.path.join(base, "7", "old"), "w").close()
    os.makedirs(os.path.join(base, "tmp"))  # not a version: ignored
    assert resolve_version(base) == os.path.join(base, "8")
    assert resolve_version(base, 3) == os.path.join(base, "3")  # exists but empty: fine
    with pytest.raises(FileExistsError):
        resolve_version(base, 7)
    target = resolve_version(base, 7, overwrite=True)
    staged = staging_dir(target)
    open(os.path.join(staged, "new"), "w").close()
    publish(staged, target)
    assert os.listdir(target) == ["new"]
    with pytest.raises(ValueError, match="version"):
        resolve_version(base, -1)
    with pytest.raises(ValueError, match="version"):
        resolve_version(base, "2")
