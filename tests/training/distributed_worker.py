"""Body of the tf.distribute tests, run in a fresh process per mode.

    python distributed_worker.py MODE INIT_WEIGHTS OUT_PREFIX

MODE: single (one device), mirrored (2 logical CPUs), multi_worker (cluster from TF_CONFIG).
Trains the same tiny classifier on the same global batches (8) for 3 epochs x 2 steps, from the
weights in INIT_WEIGHTS (written by the single run), and writes OUT_PREFIX.json / .npz.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tensorflow as tf  # noqa: E402

from convbert_tf.training.distribute import create_strategy, shard_by_data, split_cpu  # noqa: E402


def main(mode, init_weights, out_prefix):
    if mode == "mirrored":
        split_cpu(2)
    # Strategies first: MultiWorkerMirroredStrategy must exist before any other TF op.
    strategy = create_strategy({"single": "default"}.get(mode, mode))

    import keras
    import numpy as np

    from convbert_tf.models import ConvBertBackbone
    from convbert_tf.tasks import ConvBertTextClassifier
    from convbert_tf.training import fine_tuning_optimizer, xla_compiled_train_functions

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, seq = 16, 8
    x = {"token_ids": rng.integers(1, 50, (n, seq)).astype("int32"),
         "segment_ids": np.zeros((n, seq), "int32"), "padding_mask": np.ones((n, seq), "int32")}
    y = rng.integers(0, 2, n).astype("int32")

    with strategy.scope():
        backbone = ConvBertBackbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
                                    intermediate_dim=16, conv_kernel_size=3,
                                    max_sequence_length=seq, dropout=0.0)
        model = ConvBertTextClassifier(backbone, 2, dropout=0.0, compile=False)
        if mode == "single":
            model.save_weights(init_weights)
        else:
            model.load_weights(init_weights)
        model.compile(optimizer=fine_tuning_optimizer(model, 1e-2, num_train_steps=6),
                      jit_compile=True)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    if mode == "multi_worker":
        dataset = shard_by_data(dataset)
    history = model.fit(dataset, epochs=3, verbose=0)

    result = {
        "mode": mode,
        "replicas": strategy.num_replicas_in_sync,
        "losses": [float(v) for v in history.history["loss"]],
        "xla_mode": model.xla_mode,
        "xla_functions": [f.__name__ for f in xla_compiled_train_functions(model)],
    }
    with open(out_prefix + ".json", "w") as handle:
        json.dump(result, handle)
    np.savez(out_prefix + ".npz", *[v.numpy() for v in model.weights])
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])
