"""Shared fixtures of the export tests: one tiny trained classifier and its SavedModel."""

import keras
import numpy as np
import pytest

SEQUENCE_LENGTH = 32
TEXTS = ["a good film", "a bad film", "great acting, lovely score", "awful and dull",
         "not bad at all", "Ça va? naïve café"]
LABELS = [1, 0, 1, 0, 1, 1]
PAIRS = (["A man sleeps.", "Two dogs run"], ["Nobody sleeps.", "animals are moving outside"])


def tiny_backbone(kind="convbert"):
    from convbert_tf.models import ConvBertBackbone, GroupBertBackbone

    # The full 30,522-token vocabulary (the packaged tokenizer), everything else tiny.
    if kind == "convbert":
        return ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=4, hidden_dim=32,
                                intermediate_dim=64, embedding_dim=16, max_sequence_length=64)
    return GroupBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=32,
                             intermediate_dim=128, max_sequence_length=64)


def train_classifier(kind="convbert"):
    """A tiny classifier trained a few steps, so the weights are not the initial ones."""
    from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
    from convbert_tf.tasks import ConvBertTextClassifier

    keras.utils.set_random_seed(0)
    preprocessor = ConvBertTextClassifierPreprocessor(sequence_length=SEQUENCE_LENGTH)
    task = ConvBertTextClassifier(tiny_backbone(kind), 2, preprocessor=preprocessor)
    # Eager steps: tracing a train function costs ~5x more than 3 tiny steps on this CPU.
    task.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False, run_eagerly=True)
    before = task.get_layer("logits").get_weights()[0].copy()
    task.fit(TEXTS, np.array(LABELS), batch_size=3, epochs=1, shuffle=False, verbose=0)
    assert not np.allclose(before, task.get_layer("logits").get_weights()[0])
    return task


@pytest.fixture(scope="session")
def classifier():
    return train_classifier("convbert")


@pytest.fixture(scope="session")
def expected(classifier):
    """Keras outputs for the texts, the pairs and the ids of the texts."""
    ids = {k: v.numpy() for k, v in classifier.preprocessor(TEXTS).items()}
    return {
        "texts": classifier.predict(TEXTS, verbose=0),
        "pairs": classifier.predict(PAIRS, verbose=0),
        "ids": ids,
    }


@pytest.fixture(scope="session")
def saved_model_dir(classifier, tmp_path_factory):
    from convbert_tf.export import export_saved_model

    base = tmp_path_factory.mktemp("saved_models") / "tiny"
    return export_saved_model(classifier, base, warmup_batch_sizes=(1, 2))
