"""Parity of the checkpoint loaders with the reference implementation, as quoted in README.md.

For each committed fixture (tests/checkpoints/data/{small_like,medium_small_like,base_like}:
random-weight `transformers.ConvBertModel`s saved with their `last_hidden_state` on a batch
with padding and non-zero segment ids), loads the weights from `model.safetensors`, from a
`tf_model.h5` and from an official-layout TF1 checkpoint (both written from the same tensors),
and records the max |ours - reference| of `sequence_output` on real (non-padding) positions.
Needs no PyTorch. Writes bench/results/checkpoint_parity.json.

    python bench/checkpoint_parity.py
"""

import argparse
import json
import os
import platform
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=os.path.join(HERE, "results",
                                                         "checkpoint_parity.json"))
    args = parser.parse_args(argv)

    import tensorflow as tf

    from convbert_tf.checkpoints import load_hf_checkpoint, load_tf1_checkpoint
    from tests.checkpoints.checkpoint_writers import write_hf_tf_h5, write_tf1_checkpoint
    from tests.checkpoints.parity import ATOL, SHAPES, fixture_dir, max_abs_diff, torch_state

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in SHAPES:
            h5_dir = os.path.join(tmp, shape, "h5")
            os.makedirs(h5_dir)
            with open(os.path.join(fixture_dir(shape), "config.json")) as handle:
                config = handle.read()
            with open(os.path.join(h5_dir, "config.json"), "w") as handle:
                handle.write(config)
            write_hf_tf_h5(torch_state(shape), os.path.join(h5_dir, "tf_model.h5"))
            os.makedirs(os.path.join(tmp, shape, "tf1"))
            tf1_prefix = os.path.join(tmp, shape, "tf1", "model.ckpt-1000")
            write_tf1_checkpoint(torch_state(shape), tf1_prefix)
            loaders = {
                "safetensors": (load_hf_checkpoint, fixture_dir(shape)),
                "tf_model_h5": (load_hf_checkpoint, h5_dir),
                "tf1_checkpoint": (load_tf1_checkpoint, tf1_prefix),
            }
            results[shape] = {}
            for name, (load, source) in loaders.items():
                real, everywhere = max_abs_diff(load(source), shape)
                results[shape][name] = {"max_abs_diff_real_positions": real,
                                        "max_abs_diff_all_positions": everywhere}
            results[shape]["max_abs_diff"] = max(
                r["max_abs_diff_real_positions"] for r in results[shape].values())
    record = {
        "command": "python bench/checkpoint_parity.py",
        "reference": "transformers.ConvBertModel (fixtures written by "
                     "tests/checkpoints/make_parity_fixtures.py)",
        "tolerance_in_tests": ATOL,
        "results": results,
        "environment": {"platform": platform.platform(), "tensorflow": tf.__version__},
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(record, handle, indent=1)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
