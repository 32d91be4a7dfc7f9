"""Subprocess body of the SIGKILL-and-resume test: `python pretraining_worker.py CORPUS OUT
STEPS EVERY [KILL_AFTER_STEP]` pretrains a tiny ConvBERT with `pretrain()`; with KILL_AFTER_STEP
it SIGKILLs itself right after that training step (no cleanup, as a crash or OOM kill would)."""

import os
import signal
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402

from convbert_tf.models import ConvBertBackbone  # noqa: E402
from convbert_tf.preprocessing import ConvBertTokenizer  # noqa: E402
from convbert_tf.training.pretraining import pretrain  # noqa: E402


def corpus_tokenizer(lines, unused):
    """A WordPiece tokenizer of exactly the words of `lines` plus `unused` entries that never
    occur in them (as most of a real vocabulary never occurs in a small corpus)."""
    words = sorted({word for line in lines for word in line.split()})
    return ConvBertTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words,
                                         *(f"unused{i}" for i in range(unused))])


class KillAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def main():
    corpus, out, steps, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    kill = [KillAt(int(sys.argv[5]))] if len(sys.argv) > 5 else []
    # A 30,522-entry MLM head made most of the SIGKILL test's time; exact resume does not
    # depend on the vocabulary.
    with open(corpus, encoding="utf-8") as f:
        tokenizer = corpus_tokenizer(f, unused=200)
    keras.utils.set_random_seed(0)
    # Dropout on (0.1) and a shuffled stream: what a real run has.
    disc = ConvBertBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=1,
                            num_heads=2, hidden_dim=32, intermediate_dim=64,
                            max_sequence_length=16, dropout=0.1)
    pretrain(disc, corpus, out, tokenizer, steps=steps, checkpoint_every=every,
             sequence_length=16, batch_size=4, keep_checkpoints=2, seed=3, jit_compile=False,
             verbose=0, callbacks=kill)


if __name__ == "__main__":
    main()
