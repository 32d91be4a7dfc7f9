"""Body of the resume test: one GLUE runner process (run by test_resume.py).

    python glue_resume_worker.py GLUE_DIR OUTPUT_DIR RESULT_PREFIX

Fine-tunes a tiny ConvBERT on the tiny SST-2 in GLUE_DIR with the real runner (shuffling,
dropout 0.1, XLA, backups every 2 steps), prints `STEP <global step>` after every step (the test
kills the process with SIGKILL at a random one; with RESUME_TEST_HANDSHAKE set it waits for a
line on stdin after each), and at the end writes RESULT_PREFIX.npz (every
model weight) and RESULT_PREFIX.json (the last epoch's logs and the optimizer step).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from convbert_tf.models import ConvBertBackbone  # noqa: E402
from convbert_tf.training.glue import run_glue  # noqa: E402

EPOCHS, BATCH, SEQ, BACKUP_EVERY = 3, 4, 16, 2


class PrintStep(keras.callbacks.Callback):
    """Announces each finished step; keeps the final weights and optimizer state."""

    def on_train_batch_end(self, batch, logs=None):
        print(f"STEP {int(self.model.optimizer.iterations.numpy())}", flush=True)
        if os.environ.get("RESUME_TEST_HANDSHAKE"):
            # Wait for the test's go-ahead, so that it can kill at exactly this step (before
            # this step's backup, which runs after this callback).
            sys.stdin.readline()

    def on_train_end(self, logs=None):
        self.weights = [w.numpy() for w in self.model.weights]
        self.optimizer_state = [v.numpy() for v in self.model.optimizer.variables]


def main(glue_dir, output_dir, result_prefix):
    keras.utils.set_random_seed(0)
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, embedding_dim=4, conv_kernel_size=3,
                                max_sequence_length=SEQ, dropout=0.1)
    printer = PrintStep()
    logs = run_glue("sst2", data_dir=glue_dir, backbone=backbone, epochs=EPOCHS,
                    batch_size=BATCH, sequence_length=SEQ, output_dir=output_dir,
                    learning_rate=1e-2, backup_every=BACKUP_EVERY, callbacks=[printer],
                    verbose=0)
    np.savez(result_prefix + ".npz", *printer.weights, *printer.optimizer_state)
    with open(result_prefix + ".json", "w") as handle:
        json.dump(logs, handle)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
