"""Imports point down only: layers -> models -> preprocessing / optimizers -> tasks ->
checkpoints -> training / export -> cli.

Every `import` of `convbert_tf` code (module level or inside a function) is read with `ast`;
an import from a lower floor to a higher one fails the test (`farm-studio look` draws the
same house). `convbert_tf/__init__.py` resolves names lazily through `importlib` and is not an
arrow: it is the composition root, which also registers the checkpoint loaders that lower
floors reach through `convbert_tf/loaders.py`; that module and `convbert_tf/internals.py` are
the ground floor.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "convbert_tf"

FLOORS = {
    "internals": 0,
    "loaders": 0,
    "deferred_registration": 0,
    "layers": 1,
    "models": 2,
    "optimizers": 3,
    "preprocessing": 3,
    "tasks": 4,
    "checkpoints": 5,
    "training": 6,
    "export": 6,
    "cli": 7,
    "__main__": 8,
}
# Arrows that still run back up, with their owner: the test fails when one disappears, so the
# list only shrinks. Empty: keep it so.
PENDING = set()

def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def arrows():
    """`(file relative to convbert_tf/, its part, imported part)` for every import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        source_part = relative.split("/")[0].removesuffix(".py")
        if source_part == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                if module.startswith("convbert_tf.") and _part(module) != source_part:
                    found.append((relative, source_part, _part(module)))
    return found


def test_every_part_has_a_floor():
    parts = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
             if (p.is_dir() and (p / "__init__.py").exists()) or p.suffix == ".py"}
    assert parts - {"__init__"} <= set(FLOORS), parts - set(FLOORS)


def test_no_import_runs_back_up():
    upward = sorted({(relative, target) for relative, source, target in arrows()
                     if FLOORS[target] >= FLOORS[source]})
    unexpected = [arrow for arrow in upward if arrow not in PENDING]
    assert not unexpected, "imports that run back up (or sideways):\n" + "\n".join(
        f"convbert_tf/{relative} -> convbert_tf.{target}" for relative, target in unexpected)
    stale = PENDING - set(upward)
    assert not stale, f"fixed, drop from PENDING: {sorted(stale)}"
