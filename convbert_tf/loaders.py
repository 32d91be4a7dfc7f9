"""Loaders that the lower floors call and `convbert_tf.checkpoints` provides.

`from_preset("hf://ORG/NAME")` (backbones, tokenizers, preprocessors, tasks) and
`convbert_tf.models.load_backbone` accept released checkpoints, but fetching and converting
them is the job of `convbert_tf.checkpoints`, which builds models and so sits above them. The
lower floors call the loaders registered here by name; `convbert_tf/__init__.py` (the
package's composition root, which runs before any of its modules) registers ones that import
`convbert_tf.checkpoints` on first use. No module below the checkpoints imports them.

Loaders:
    "hf_preset": `(handle, expected_class=None) -> local keras-hub preset directory` for an
        `hf://ORG/NAME` handle; with `expected_class`, a repository whose backbone is neither
        that class nor one of its subclasses is refused before its weights are fetched.
    "checkpoint": `(path, dtype=None) -> backbone` for a Hugging Face checkpoint directory or
        a TF1 checkpoint; a `FileNotFoundError` when `path` is neither.
"""

_LOADERS = {}


def register_loader(name, function):
    """Makes `function` the loader called `name` (see the module docstring)."""
    _LOADERS[name] = function


def get_loader(name):
    """The loader registered as `name`; a `LookupError` naming it when there is none."""
    try:
        return _LOADERS[name]
    except KeyError:
        raise LookupError(f"No {name!r} loader is registered (convbert_tf/__init__.py "
                          "registers the ones convbert_tf.checkpoints provides).") from None
