"""Shared helpers of the checkpoint tests: the committed fixtures and the parity check."""

import os
import shutil

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
SHAPES = ("small_like", "medium_small_like", "base_like")
# The spec's tolerance against the reference implementation.
ATOL = 1e-4
INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def fixture_dir(shape):
    return os.path.join(DATA_DIR, shape)


def expected(shape):
    """`(inputs dict, reference last_hidden_state)` of a committed fixture."""
    data = np.load(os.path.join(fixture_dir(shape), "expected.npz"))
    return {name: data[name] for name in INPUT_NAMES}, data["last_hidden_state"]


def torch_state(shape):
    """The fixture's HF PyTorch-layout state dict, read without torch."""
    from safetensors.numpy import load_file

    return load_file(os.path.join(fixture_dir(shape), "model.safetensors"))


def copy_fixture(shape, dst, weights=True):
    """Copies a fixture's config.json (and weights) into `dst`; returns `dst`."""
    os.makedirs(dst, exist_ok=True)
    names = ["config.json"] + (["model.safetensors"] if weights else [])
    for name in names:
        shutil.copyfile(os.path.join(fixture_dir(shape), name), os.path.join(dst, name))
    return dst


def max_abs_diff(backbone, shape):
    """Max |ours - reference| over real (non-padding) positions and over all positions."""
    inputs, reference = expected(shape)
    output = np.asarray(backbone(inputs, training=False)["sequence_output"])
    assert output.shape == reference.shape
    diff = np.abs(output - reference)
    return float(diff[inputs["padding_mask"].astype(bool)].max()), float(diff.max())


def assert_parity(backbone, shape):
    """Real positions must match the reference to ATOL; returns the measured differences."""
    real, everywhere = max_abs_diff(backbone, shape)
    assert real <= ATOL, f"{shape}: max abs diff {real:.3g} on real positions"
    # Padded positions also match here: HF's large negative mask and -10000 both give
    # exactly-zero probabilities in float32.
    assert everywhere <= ATOL, f"{shape}: max abs diff {everywhere:.3g} over all positions"
    return real, everywhere
