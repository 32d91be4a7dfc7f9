"""Export: SavedModel for TF Serving, TFLite for devices, and small predictors to check them."""

from convbert_tf.export.precision import PRECISIONS
from convbert_tf.export.predictors import (
    SavedModelPredictor,
    TFLitePredictor,
    load_predictor,
    load_saved_model_predictor,
    load_tflite_predictor,
)
from convbert_tf.export.saved_model import export_saved_model
from convbert_tf.export.serving_functions import DEFAULT_BATCH_BUCKETS
from convbert_tf.export.tflite import QUANTIZATIONS, export_tflite
from convbert_tf.export.tflite_ops import TFTEXT_CUSTOM_OPS, tflite_op_names

__all__ = [
    "DEFAULT_BATCH_BUCKETS",
    "PRECISIONS",
    "QUANTIZATIONS",
    "SavedModelPredictor",
    "TFLitePredictor",
    "TFTEXT_CUSTOM_OPS",
    "export_saved_model",
    "export_tflite",
    "load_predictor",
    "load_saved_model_predictor",
    "load_tflite_predictor",
    "tflite_op_names",
]
