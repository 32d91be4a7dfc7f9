"""Released weights by name: `hf://ORG/NAME` handles, fetched through the Hugging Face cache.

keras-hub resolves an `hf://` handle itself and then stops on a Transformers-format repository
whose model type it has no converter for ("convbert", "groupbert"). Here the handle is
resolved with `huggingface_hub.hf_hub_download` (public API: it honours `HF_HUB_CACHE`,
`HF_HOME`, `HF_HUB_OFFLINE` and tokens), the repository's own files are read with this
package's loaders (no PyTorch), and the result is written once as a keras-hub preset directory
that every `from_preset` (backbone, tokenizer, preprocessors, tasks) then reads.

Only the files needed are fetched: `config.json`, the first weights file present among
`model.safetensors`, `tf_model.h5`, `pytorch_model.bin`, and `vocab.txt` when there is one.

Example:
>>> backbone = ConvBertBackbone.from_preset("hf://YituTech/conv-bert-small")
>>> local = download_hf_checkpoint("hf://Graphcore/groupbert-base-uncased")  # a directory
"""

import json
import logging
import os
import re
import shutil
import tempfile

from convbert_tf.checkpoints.hf_checkpoint import WEIGHT_FILES

logger = logging.getLogger(__name__)

HF_SCHEME = "hf://"
# Weights files per model type, in order of preference (the released GroupBERT has no h5).
_WEIGHTS_BY_TYPE = {"convbert": WEIGHT_FILES,
                    "groupbert": ("model.safetensors", "pytorch_model.bin")}
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# Bump when the converted layout changes, so old conversions are not reused.
_CONVERSION_VERSION = "1"


class HubCheckpointError(OSError, ValueError):
    """An `hf://` checkpoint could not be fetched (unknown repository, no network, not cached).

    An `OSError` (what file and network APIs raise) and a `ValueError` (what every other bad
    checkpoint error of this package is).
    """


def is_hf_handle(preset):
    """Whether `preset` is an `hf://ORG/NAME` handle."""
    return isinstance(preset, str) and preset.startswith(HF_SCHEME)


def parse_hf_handle(handle):
    """`"hf://ORG/NAME"` -> `"ORG/NAME"`, with a clear error for anything else."""
    repo_id = handle[len(HF_SCHEME):] if is_hf_handle(handle) else None
    if repo_id is None or not _REPO_ID.match(repo_id):
        raise ValueError(
            f"Expected a Hugging Face handle of the form 'hf://ORG/NAME' (e.g. "
            f"'hf://YituTech/conv-bert-base'), got {handle!r}."
        )
    return repo_id


def _offline():
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _cache_dir():
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _fetch_error(handle, filename, error):
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    repo_id = parse_hf_handle(handle)
    if isinstance(error, GatedRepoError):
        reason = "the repository is gated: accept its terms on the hub and log in (`hf auth login`)"
    elif isinstance(error, RepositoryNotFoundError):
        reason = "no such repository on the hub (or it is private: log in with `hf auth login`)"
    elif _offline():
        reason = "offline mode (HF_HUB_OFFLINE=1) is on and the file is not in the local cache"
    else:
        reason = "the hub could not be reached and the file is not in the local cache"
    return HubCheckpointError(
        f"Cannot get {filename} of {handle}: {reason}. Tried: the Hugging Face hub "
        f"(repository {repo_id!r}) and the local cache {_cache_dir()}. To work offline, fetch "
        f"it once with network access (`hf download {repo_id}`, or any from_preset call) and "
        "then set HF_HUB_OFFLINE=1; or download the files elsewhere and pass their local "
        f"directory instead of the handle. ({type(error).__name__}: {error})"
    )


def _download(repo_id, filename, handle, cache_dir, required=True):
    """Path of `filename` in the cached snapshot; None when not required and absent."""
    import huggingface_hub
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

    try:
        return huggingface_hub.hf_hub_download(repo_id=repo_id, filename=filename,
                                               cache_dir=cache_dir)
    except RepositoryNotFoundError as error:
        raise _fetch_error(handle, filename, error) from error
    except EntryNotFoundError as error:  # missing upstream, or not in the offline cache
        if required:
            raise _fetch_error(handle, filename, error) from error
        return None
    except (OSError, ValueError) as error:  # network, HTTP and validation errors
        raise _fetch_error(handle, filename, error) from error


# model_type -> the backbone class that loads it.
BACKBONE_FOR_MODEL_TYPE = {"convbert": "ConvBertBackbone", "groupbert": "GroupBertBackbone"}


def hf_model_type(handle, cache_dir=None):
    """The `model_type` of `hf://ORG/NAME`'s config.json (fetching only that file); a clear
    error for a type this package cannot load."""
    from convbert_tf.checkpoints.hf_config import check_model_type, read_json

    config_path = _download(parse_hf_handle(handle), "config.json", handle, cache_dir)
    return check_model_type(read_json(config_path), source=f"{handle} config.json")


def check_backbone_class(handle, expected_class, cache_dir=None):
    """Refuses `hf://ORG/NAME` (reading only its config.json) when the backbone class its
    model type needs is neither `expected_class` nor one of its subclasses, so a
    `ConvBertBackbone.from_preset` of a GroupBERT fails before any weights are fetched."""
    model_type = hf_model_type(handle, cache_dir)
    wanted = BACKBONE_FOR_MODEL_TYPE[model_type]
    related = {klass.__name__ for klass in expected_class.__mro__}
    related.update(sub.__name__ for sub in _all_subclasses(expected_class))
    if wanted not in related:
        raise ValueError(
            f"{handle} holds a {model_type!r} model; load it with {wanted}.from_preset, not "
            f"{expected_class.__name__}.from_preset."
        )


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def download_hf_checkpoint(handle, cache_dir=None):
    """Fetches what a conversion needs of `hf://ORG/NAME` into the Hugging Face cache.

    Args:
        handle: `"hf://ORG/NAME"`, e.g. "hf://YituTech/conv-bert-base".
        cache_dir: Hugging Face cache directory; None: huggingface_hub's (`HF_HUB_CACHE`).

    Returns:
        The local snapshot directory (config.json, one weights file, vocab.txt if any), which
        `load_hf_checkpoint` and `convert_checkpoint` accept.

    Raises:
        HubCheckpointError: the repository is unknown, or neither the hub nor the cache has
            the files; the message says what was tried and how to work offline.
        ValueError: the repository holds another model type (named), or no weights file.

    Example:
    >>> directory = download_hf_checkpoint("hf://YituTech/conv-bert-small")
    """
    from convbert_tf.checkpoints.hf_config import check_model_type, read_json

    repo_id = parse_hf_handle(handle)
    config_path = _download(repo_id, "config.json", handle, cache_dir)
    # Refuse a foreign model before fetching hundreds of megabytes of its weights.
    model_type = check_model_type(read_json(config_path), source=f"{handle} config.json")
    candidates = _WEIGHTS_BY_TYPE[model_type]
    weights = None
    for filename in candidates:
        weights = _download(repo_id, filename, handle, cache_dir, required=False)
        if weights is not None:
            break
    if weights is None:
        where = "in the local cache (offline mode)" if _offline() else "in the repository"
        raise HubCheckpointError(
            f"{handle}: none of {', '.join(candidates)} found {where} (sharded checkpoints "
            "are not supported)."
        )
    _download(repo_id, "vocab.txt", handle, cache_dir, required=False)
    directory = os.path.dirname(config_path)
    if os.path.dirname(weights) != directory:
        raise HubCheckpointError(f"{handle}: config.json and {os.path.basename(weights)} come "
                                 "from different revisions of the cache; clear it and retry.")
    return directory


def converted_presets_dir():
    """Where converted `hf://` presets are kept: `$CONVBERT_TF_CACHE`, else
    `<huggingface_hub HF_HOME>/convbert_tf/presets`."""
    root = os.environ.get("CONVBERT_TF_CACHE")
    if not root:
        from huggingface_hub import constants

        root = os.path.join(constants.HF_HOME, "convbert_tf")
    return os.path.join(root, "presets")


def hf_preset(handle, cache_dir=None, expected_class=None):
    """A keras-hub preset directory holding the converted `hf://` checkpoint.

    The first call downloads (or reads from the cache) and converts; later calls for the same
    repository revision reuse the conversion, so offline use works once it exists.

    Args:
        handle: `"hf://ORG/NAME"`.
        cache_dir: Hugging Face cache directory; None: huggingface_hub's.
        expected_class: a backbone class; the repository is refused (`check_backbone_class`)
            before anything but its config.json is fetched when it needs another one.

    Returns:
        A local preset directory (config.json, model.weights.h5, tokenizer.json and the
        vocabulary when the repository has `vocab.txt`) for any `from_preset`.

    Example:
    >>> preset = hf_preset("hf://YituTech/conv-bert-small")
    >>> ConvBertTextClassifier.from_preset(preset, num_classes=2)
    """
    from convbert_tf.checkpoints.preset_conversion import convert_checkpoint

    if expected_class is not None:
        check_backbone_class(handle, expected_class, cache_dir)
    snapshot = download_hf_checkpoint(handle, cache_dir=cache_dir)
    revision = os.path.basename(os.path.normpath(snapshot))
    target = os.path.join(converted_presets_dir(),
                          parse_hf_handle(handle).replace("/", "--"),
                          f"{revision}-v{_CONVERSION_VERSION}")
    if os.path.isfile(os.path.join(target, "model.weights.h5")):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".converting-", dir=os.path.dirname(target))
    try:
        backbone = convert_checkpoint(snapshot, staging, format="hf")
        vocabulary = os.path.join(snapshot, "vocab.txt")
        if os.path.isfile(vocabulary):
            _save_tokenizer(vocabulary, staging)
        with open(os.path.join(staging, "source.json"), "w", encoding="utf-8") as f:
            json.dump({"handle": handle, "revision": revision,
                       "backbone": type(backbone).__name__}, f, indent=2)
        try:
            os.replace(staging, target)  # atomic: a concurrent conversion may win, fine
        except OSError:
            if not os.path.isfile(os.path.join(target, "model.weights.h5")):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("Converted %s (revision %s) to %s", handle, revision, target)
    return target


def _save_tokenizer(vocabulary, preset_dir):
    from convbert_tf.preprocessing import ConvBertTokenizer

    ConvBertTokenizer(vocabulary=vocabulary).save_to_preset(preset_dir)


def resolve_preset(preset):
    """`hf://` handles -> their converted local preset directory; anything else unchanged."""
    return hf_preset(preset) if is_hf_handle(preset) else preset
