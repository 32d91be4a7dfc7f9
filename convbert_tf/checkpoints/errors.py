"""Exceptions of the checkpoint loaders."""


class CheckpointNotFoundError(FileNotFoundError, ValueError):
    """A checkpoint file or directory is missing.

    It is a `FileNotFoundError` (what callers of file APIs expect) and a `ValueError` (what
    every other bad-checkpoint error of this package is), so `except ValueError` catches all.
    """


class CheckpointFormatError(ValueError):
    """A checkpoint file is malformed: truncated, corrupted, or not the expected format."""


class UnsafeCheckpointError(CheckpointFormatError):
    """A pickled checkpoint names a Python global other than the tensor machinery.

    Raised before anything from the file is called: no code in a checkpoint ever runs.
    """
