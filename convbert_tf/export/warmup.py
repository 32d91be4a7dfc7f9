"""TF Serving warmup records: `assets.extra/tf_serving_warmup_requests`.

TF Serving replays these `PredictionLog` records when it loads a version, before it reports the
version as available. The first XLA call of each (signature, batch size) compiles the model
(seconds), so without warmup the first user request pays for it.
"""

import os

import numpy as np
import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
DEFAULT_TEXTS = ("a warmup request", "another, slightly longer warmup request for the model")


def _texts(texts, batch_size):
    return np.array([texts[i % len(texts)].encode("utf-8") for i in range(batch_size)],
                    dtype=object)


def warmup_inputs(signatures, batch_sizes, sequence_length, texts=None):
    """`[(signature name, {input name: numpy array})]`, one per signature and batch size."""
    texts = tuple(texts or DEFAULT_TEXTS)
    requests = []
    for batch_size in batch_sizes:
        for name in signatures:
            if name == "serve_ids" or (name == "serving_default" and "serve_pair" not in signatures):
                ids = np.zeros((batch_size, sequence_length), np.int32)
                inputs = {"token_ids": ids, "segment_ids": ids,
                          "padding_mask": np.ones_like(ids)}
            elif name == "serve_pair":
                inputs = {"text_a": _texts(texts, batch_size),
                          "text_b": _texts(texts[::-1], batch_size)}
            else:
                inputs = {"text": _texts(texts, batch_size)}
            requests.append((name, inputs))
    return requests


def write_warmup_requests(export_dir, model_name, requests):
    """Writes `requests` as `PredictionLog` TFRecords under `export_dir/assets.extra/`.

    Args:
        export_dir: the SavedModel version directory.
        model_name: the `--model_name` TF Serving will use.
        requests: `[(signature name, {input name: numpy array})]`.

    Returns:
        The path of the written file.

    Example:
    >>> write_warmup_requests("saved_models/sst2/1", "sst2",
    ...                       [("serving_default", {"text": np.array([b"hi"], object)})])
    """
    # Imported here: tensorflow-serving-api is only needed by this writer.
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    path = os.path.join(export_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature_name, inputs in requests:
            request = predict_pb2.PredictRequest()
            request.model_spec.name = model_name
            request.model_spec.signature_name = signature_name
            for key, value in inputs.items():
                dtype = tf.string if value.dtype == object else None
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value, dtype=dtype))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(path):
    """Parses a warmup file back into `[(signature name, {input name: numpy array})]`."""
    from tensorflow_serving.apis import prediction_log_pb2

    requests = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        requests.append((request.model_spec.signature_name, inputs))
    return requests
