"""The wheel is complete: a non-editable install imports, has its assets and its console script."""

import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), REPO_ROOT],
        check=True, timeout=300,
    )
    (path,) = out.glob("convbert_tf-*.whl")
    return path


def test_wheel_contains_package_data_and_entry_point(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "convbert_tf/assets/bert_uncased_vocab.txt" in names
    assert "convbert_tf/cli/commands/info.py" in names
    assert not any(n.startswith(("tests/", "examples/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "convbert-tf = convbert_tf.cli:main" in text


def test_non_editable_install_works(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    # Run from an empty directory so the checkout cannot shadow the installed copy.
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (f"import convbert_tf, os; assert convbert_tf.__file__.startswith({str(target)!r}); "
            "from convbert_tf.preprocessing.vocabulary import default_vocabulary_path as p; "
            "assert sum(1 for _ in open(p())) == 30522")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path,
                   timeout=300)
    result = subprocess.run([str(target / "bin" / "convbert-tf"), "--help"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "usage: convbert-tf" in result.stdout


def test_wheel_ships_no_benchmark_code(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert not any(n.startswith(("bench/", "convbert_tf/benchmarks/")) for n in names)


def _requirements():
    import tomllib
    from packaging.requirements import Requirement

    with open(os.path.join(REPO_ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    return [Requirement(r) for r in
            project["dependencies"] + project["optional-dependencies"]["dev"]]


def test_dependency_bounds_admit_the_tested_versions():
    """Every bounded requirement admits the installed (= tested) version, and the core stack
    has an upper bound: pyproject's ranges are what this suite ran on."""
    from importlib.metadata import PackageNotFoundError, version

    from convbert_tf import internals

    bounded = set()
    for requirement in _requirements():
        if any(spec.operator in ("<", "<=", "==") for spec in requirement.specifier):
            bounded.add(requirement.name)
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            continue
        assert requirement.specifier.contains(installed, prereleases=True), (
            f"{requirement.name} {installed} is installed but pyproject says {requirement}")
    assert {"tensorflow", "tensorflow-text", "keras", "keras-hub", "jax", "grain"} <= bounded
    keras_requirement = next(r for r in _requirements() if r.name == "keras")
    low, high = internals.KERAS_TESTED
    assert str(keras_requirement.specifier) == f"<{high[0]}.{high[1]},>={low[0]}.{low[1]}"
