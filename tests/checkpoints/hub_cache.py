"""A local Hugging Face hub cache with random-weight repositories, for `hf://` tests.

The layout is huggingface_hub's own (`models--ORG--NAME/refs/main` holding a commit hash,
`snapshots/<commit>/<files>`), so `hf_hub_download` finds the files there with
`HF_HUB_OFFLINE=1` and nothing touches the network.
"""

import hashlib
import os
import shutil

from tests.checkpoints.parity import DATA_DIR

_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# A 64-entry vocabulary (the fixtures' vocab_size): specials, then lower-case words.
VOCABULARY = _SPECIALS + [f"word{i}" for i in range(64 - len(_SPECIALS) - 4)] + [
    "hello", "world", "good", "film"]


def add_repo(cache, repo_id, files):
    """Adds `repo_id` to the cache at `cache` with `files` {name: source path or text}."""
    folder = os.path.join(cache, "models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = os.path.join(folder, "snapshots", commit)
    os.makedirs(snapshot, exist_ok=True)
    os.makedirs(os.path.join(folder, "refs"), exist_ok=True)
    with open(os.path.join(folder, "refs", "main"), "w") as f:
        f.write(commit)
    for name, source in files.items():
        target = os.path.join(snapshot, name)
        if os.path.isfile(source):
            shutil.copyfile(source, target)
        else:
            with open(target, "w") as f:
                f.write(source)
    return snapshot


def build_hub_cache(cache):
    """The repositories the tests use, in the layouts of the real ones (random weights)."""
    vocab = "\n".join(VOCABULARY) + "\n"
    small = os.path.join(DATA_DIR, "small_like")
    medium = os.path.join(DATA_DIR, "medium_small_like")
    group = os.path.join(DATA_DIR, "groupbert_tiny")
    # YituTech repos hold config.json, pytorch_model.bin, tf_model.h5 and vocab.txt; these
    # hold what the fixtures have of that (the reader takes whichever is there).
    add_repo(cache, "YituTech/conv-bert-small", {
        "config.json": os.path.join(small, "config.json"),
        "pytorch_model.bin": os.path.join(small, "pytorch_model.bin"),
        "vocab.txt": vocab})
    add_repo(cache, "YituTech/conv-bert-medium-small", {
        "config.json": os.path.join(medium, "config.json"),
        "tf_model.h5": os.path.join(medium, "tf_model.h5"),
        "vocab.txt": vocab})
    add_repo(cache, "Graphcore/groupbert-base-uncased", {
        "config.json": os.path.join(group, "config.json"),
        "pytorch_model.bin": os.path.join(group, "pytorch_model.bin"),
        "vocab.txt": vocab})
    add_repo(cache, "google-bert/bert-base-uncased", {
        "config.json": '{"model_type": "bert", "hidden_size": 32}'})
    add_repo(cache, "someone/config-only", {
        "config.json": os.path.join(small, "config.json")})
    return cache


def use_offline_hub(tmp_path, monkeypatch):
    """Points huggingface_hub (offline) at a fresh `build_hub_cache` under `tmp_path` and
    conversions at `tmp_path/converted`; returns the cache directory. For `hub` fixtures."""
    from huggingface_hub import constants

    cache = build_hub_cache(str(tmp_path / "hub"))
    # huggingface_hub reads these at import time: patch its constants, and the environment
    # for anything started later.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", cache)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", cache)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CONVBERT_TF_CACHE", str(tmp_path / "converted"))
    return cache
