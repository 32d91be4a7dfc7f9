"""TF Serving's model directory layout: `<base>/<integer version>/`, published atomically.

TF Serving polls `--model_base_path` and loads the highest integer sub-directory it finds, so a
half-written version would be loaded (and fail). We write into a hidden temporary sibling
(TF Serving ignores names that are not integers) and rename it into place at the end.
"""

import os
import shutil
import tempfile


def existing_versions(base_path):
    """Sorted integer versions present under `base_path` (empty if it does not exist)."""
    if not os.path.isdir(base_path):
        return []
    return sorted(int(name) for name in os.listdir(base_path)
                  if name.isdigit() and os.path.isdir(os.path.join(base_path, name)))


def resolve_version(base_path, version=None, overwrite=False):
    """Returns the version directory to write; checks it may be written.

    Args:
        base_path: the model's base path (`saved_models/<name>`).
        version: int >= 0, or None for one more than the highest existing version (1 if none).
        overwrite: allow replacing an existing non-empty version directory.
    """
    if os.path.exists(base_path) and not os.path.isdir(base_path):
        raise ValueError(f"The export path {base_path!r} exists and is not a directory.")
    if version is None:
        versions = existing_versions(base_path)
        version = versions[-1] + 1 if versions else 1
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"`version` must be None or an int >= 0. Received: {version!r}")
    version_dir = os.path.join(base_path, str(version))
    if os.path.isdir(version_dir) and os.listdir(version_dir) and not overwrite:
        raise FileExistsError(
            f"{version_dir!r} already exists and is not empty; pass overwrite=True "
            "(--overwrite) to replace it, or version=None for the next free version."
        )
    return version_dir


def staging_dir(version_dir):
    """A fresh hidden directory next to `version_dir` (same file system, so rename is atomic)."""
    base = os.path.dirname(os.path.abspath(version_dir))
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=f".tmp-{os.path.basename(version_dir)}-", dir=base)


def publish(staged, version_dir):
    """Moves the finished `staged` directory to `version_dir`, replacing what was there."""
    old = None
    if os.path.exists(version_dir):
        old = staged + ".old"
        os.rename(version_dir, old)
    os.rename(staged, version_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
