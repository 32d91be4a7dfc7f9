"""A GroupBERT classifier exports both ways, with the same outputs as Keras."""

import numpy as np

from tests.export.conftest import PAIRS, TEXTS, train_classifier


def test_groupbert_saved_model_and_tflite(tmp_path):
    from convbert_tf.export import (
        SavedModelPredictor,
        TFLitePredictor,
        export_saved_model,
        export_tflite,
    )

    task = train_classifier("groupbert")
    texts, pairs = task.predict(TEXTS, verbose=0), task.predict(PAIRS, verbose=0)

    # jit_compile=False keeps this test's CPU time down; XLA is covered by the ConvBERT test.
    export_dir = export_saved_model(task, tmp_path / "sm", jit_compile=False,
                                    warmup_batch_sizes=())
    saved = SavedModelPredictor(tmp_path / "sm")  # base path -> highest version
    assert saved.path == export_dir
    np.testing.assert_allclose(saved.predict(TEXTS)["logits"], texts, atol=1e-5)
    np.testing.assert_allclose(saved.predict(*PAIRS)["logits"], pairs, atol=1e-5)

    ops = export_tflite(task, tmp_path / "g.tflite", include_tokenizer=True)
    assert not [op for op in ops if op.startswith("Flex")]
    lite = TFLitePredictor(tmp_path / "g.tflite")
    np.testing.assert_allclose(lite.predict(TEXTS)["logits"], texts, atol=1e-4)
    np.testing.assert_allclose(lite.predict(*PAIRS)["logits"], pairs, atol=1e-4)
