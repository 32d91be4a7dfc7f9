"""ConvBertTextRegressor: one float per pair, MSE."""

import keras
import numpy as np

from convbert_tf.models import ConvBertBackbone
from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor
from convbert_tf.tasks import ConvBertTextRegressor

PAIRS = (["a man plays a guitar .", "a cat sleeps .", "kids play", "it rains"],
         ["a man is playing music .", "a dog barks .", "children are playing", "the sun shines"])
SCORES = np.array([4.5, 0.5, 4.8, 1.0], "float32")


def test_regressor_fits_pairs_and_reports_mse(tmp_path):
    keras.utils.set_random_seed(0)
    backbone = ConvBertBackbone(vocabulary_size=30522, num_layers=1, num_heads=2, hidden_dim=8,
                                intermediate_dim=16, embedding_dim=4, conv_kernel_size=3,
                                max_sequence_length=12)
    regressor = ConvBertTextRegressor(
        backbone, preprocessor=ConvBertTextClassifierPreprocessor(sequence_length=12)
    )
    assert regressor.jit_compile is True
    history = regressor.fit(PAIRS, SCORES, batch_size=2, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    predictions = regressor.predict(PAIRS, batch_size=4, verbose=0)
    assert predictions.shape == (4, 1)
    results = regressor.evaluate(PAIRS, SCORES, batch_size=4, return_dict=True, verbose=0)
    expected = float(np.mean((predictions[:, 0] - SCORES) ** 2))
    np.testing.assert_allclose(results["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(results["mse"], expected, rtol=1e-5)

    path = str(tmp_path / "regressor.keras")
    regressor.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored.predict(PAIRS, batch_size=4, verbose=0), predictions,
                               atol=1e-6)
