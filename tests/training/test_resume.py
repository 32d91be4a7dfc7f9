"""BackupAndRestore: an interrupted fine-tuning run resumes at the saved epoch and ends with
exactly the weights of an uninterrupted run."""

import keras
import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone
from convbert_tf.tasks import ConvBertTextClassifier
from convbert_tf.training import fine_tuning_optimizer

EPOCHS = 3


class InterruptAtEpoch(keras.callbacks.Callback):
    """Stands in for a preempted job: fails as epoch `epoch` (0-based) starts."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("preempted")


def fresh_classifier():
    """What a restarted process builds: same architecture, new random weights."""
    backbone = ConvBertBackbone(vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, conv_kernel_size=3, max_sequence_length=8,
                                dropout=0.0)
    classifier = ConvBertTextClassifier(backbone, 2, dropout=0.0, compile=False)
    classifier.compile(optimizer=fine_tuning_optimizer(classifier, 1e-2, num_train_steps=6))
    return classifier


def data():
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 40, (8, 8)).astype("int32")
    x = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}
    return x, rng.integers(0, 2, 8).astype("int32")


def test_interrupted_run_resumes_and_matches_uninterrupted(tmp_path):
    x, y = data()
    keras.utils.set_random_seed(0)
    reference = fresh_classifier()
    initial = [w.numpy() for w in reference.weights]
    full = reference.fit(x, y, batch_size=4, epochs=EPOCHS, shuffle=False, verbose=0)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    first = fresh_classifier()
    first.set_weights(initial)
    with pytest.raises(RuntimeError, match="preempted"):
        first.fit(x, y, batch_size=4, epochs=EPOCHS, shuffle=False, verbose=0,
                  callbacks=[backup, InterruptAtEpoch(2)])

    keras.utils.set_random_seed(99)  # the restarted process starts from other weights
    resumed = fresh_classifier()
    history = resumed.fit(x, y, batch_size=4, epochs=EPOCHS, shuffle=False, verbose=0,
                          callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))])
    # Only the last epoch ran, from step 4 (2 epochs x 2 steps) of the schedule.
    assert history.epoch == [2]
    assert int(resumed.optimizer.iterations) == int(reference.optimizer.iterations) == 6
    np.testing.assert_allclose(history.history["loss"][-1], full.history["loss"][-1], rtol=1e-6)
    for got, want in zip(resumed.weights, reference.weights):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=got.path)
