"""Exceptions of the checkpoint loaders."""


class CheckpointNotFoundError(FileNotFoundError, ValueError):
    """A checkpoint file or directory is missing.

    It is a `FileNotFoundError` (what callers of file APIs expect) and a `ValueError` (what
    every other bad-checkpoint error of this package is), so `except ValueError` catches all.
    """
