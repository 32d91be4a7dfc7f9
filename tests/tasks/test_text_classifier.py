"""ConvBertTextClassifier: raw strings in, XLA really on, saving with its preprocessor."""

import keras
import numpy as np
import pytest

from convbert_tf.models import ConvBertBackbone, GroupBertBackbone
from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
from convbert_tf.tasks import ConvBertTextClassifier
from convbert_tf.training import xla_compiled_train_functions
from convbert_tf.training.layerwise_adamw import LayerwiseAdamW

SEQ = 12
TEXTS = ["a great and moving film", "dull , lifeless", "fine acting", "a boring plot"]
PAIRS = (["a man sleeps .", "a dog runs .", "it rains", "the sun is out"],
         ["nobody sleeps .", "an animal moves .", "it is wet", "it is dark"])
LABELS = np.array([1, 0, 1, 0])


def tiny_backbone(**overrides):
    config = dict(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=8,
                  intermediate_dim=16, embedding_dim=4, conv_kernel_size=3,
                  max_sequence_length=SEQ)
    return ConvBertBackbone(**{**config, **overrides})


@pytest.fixture(scope="module")
def trained():
    """One classifier trained once on single texts (one XLA compile shared by the tests)."""
    keras.utils.set_random_seed(0)
    preprocessor = ConvBertTextClassifierPreprocessor(sequence_length=SEQ)
    classifier = ConvBertTextClassifier(tiny_backbone(), 2, preprocessor=preprocessor)
    history = classifier.fit(TEXTS, LABELS, batch_size=2, epochs=2, verbose=0)
    return classifier, history


def test_fit_predict_evaluate_on_raw_strings_under_xla(trained):
    classifier, history = trained
    assert classifier.jit_compile is True and classifier.xla_mode == "step"
    assert np.all(np.isfinite(history.history["loss"])) and len(history.history["loss"]) == 2
    logits = classifier.predict(TEXTS, batch_size=2, verbose=0)
    assert logits.shape == (4, 2) and np.all(np.isfinite(logits))
    results = classifier.evaluate(TEXTS, LABELS, batch_size=2, return_dict=True, verbose=0)
    expected = float(np.mean(np.argmax(logits, -1) == LABELS))
    assert results["accuracy"] == pytest.approx(expected)

    # XLA for real: the step `fit` ran is a traced tf.function(jit_compile=True), and XLA
    # lowers it to HLO for a real batch.
    functions = xla_compiled_train_functions(classifier)
    assert [f.__name__ for f in functions] == ["one_step_on_data"]
    batch = (classifier.preprocessor(TEXTS[:2]), LABELS[:2])
    hlo = functions[0].experimental_get_compiler_ir(batch)(stage="hlo")
    assert "HloModule" in hlo and "ENTRY" in hlo


def test_sentence_pairs(trained):
    classifier, _ = trained
    history = classifier.fit(PAIRS, LABELS, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    logits = classifier.predict(PAIRS, batch_size=2, verbose=0)
    assert logits.shape == (4, 2)
    # The pair really reaches the model as two segments.
    features = classifier.preprocessor(PAIRS)
    assert features["segment_ids"].numpy().max() == 1


def test_keras_file_round_trip_with_preprocessor_and_optimizer(trained, tmp_path):
    classifier, _ = trained
    path = str(tmp_path / "classifier.keras")
    classifier.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, ConvBertTextClassifier)
    assert isinstance(restored.preprocessor, ConvBertTextClassifierPreprocessor)
    np.testing.assert_allclose(
        restored.predict(TEXTS, batch_size=2, verbose=0),
        classifier.predict(TEXTS, batch_size=2, verbose=0), atol=1e-6,
    )
    assert isinstance(restored.optimizer, LayerwiseAdamW)
    assert restored.optimizer.get_config() == classifier.optimizer.get_config()
    assert int(restored.optimizer.iterations) == int(classifier.optimizer.iterations) > 0
    assert restored.jit_compile is True


def test_head_reads_first_token_for_convbert_and_pooler_for_groupbert():
    convbert = ConvBertTextClassifier(tiny_backbone(), 3, compile=False)
    assert convbert.pooling == "first_token"
    groupbert = GroupBertBackbone(vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=16,
                                  intermediate_dim=32, conv_group_size=8, num_groups=2,
                                  max_sequence_length=SEQ)
    classifier = ConvBertTextClassifier(groupbert, 3, compile=False)
    assert classifier.pooling == "pooled"
    ids = np.arange(1, SEQ + 1, dtype="int32")[None] % 50
    inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}
    pooled = groupbert(inputs)["pooled_output"]
    expected = classifier.output_dense(pooled)
    np.testing.assert_allclose(classifier(inputs), expected, atol=1e-6)
    assert classifier.output_dense.kernel.shape == (16, 3)


def test_mean_pooling_reads_the_mean_of_the_unpadded_states():
    backbone = tiny_backbone()
    classifier = ConvBertTextClassifier(backbone, 3, pooling="mean", compile=False)
    ids = np.arange(1, SEQ + 1, dtype="int32")[None] % 50
    mask = (np.arange(SEQ) < 3).astype("int32")[None]
    inputs = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": mask}
    states = np.asarray(backbone(inputs)["sequence_output"])
    expected = classifier.output_dense(states[:, :3].mean(axis=1))
    np.testing.assert_allclose(classifier(inputs), expected, atol=1e-5)
    restored = ConvBertTextClassifier.from_config(classifier.get_config())
    assert restored.pooling == "mean"


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        ConvBertTextClassifier(tiny_backbone(), 1, compile=False)
    with pytest.raises(ValueError, match="pooling"):
        ConvBertTextClassifier(tiny_backbone(), 2, pooling="max", compile=False)


def test_mixed_float16_gets_loss_scaling():
    classifier = ConvBertTextClassifier(tiny_backbone(dtype="mixed_float16"), 2)
    assert isinstance(classifier.optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(classifier.optimizer.inner_optimizer, LayerwiseAdamW)
    ids = np.random.default_rng(0).integers(1, 30522, (4, SEQ)).astype("int32")
    x = {"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": 1 + 0 * ids}
    logits = np.asarray(classifier(x), "float32")
    assert classifier.output_dense.compute_dtype == "float16"
    assert np.all(np.isfinite(logits))
    # Same weights in float32. Measured max |logit diff| 2.4e-5..2.4e-4 (seeds 0-2, logits
    # ~0.1): bound 1e-3, ~4x.
    reference = ConvBertTextClassifier(tiny_backbone(), 2, compile=False)
    reference.set_weights(classifier.get_weights())
    np.testing.assert_allclose(logits, np.asarray(reference(x)), atol=1e-3)
