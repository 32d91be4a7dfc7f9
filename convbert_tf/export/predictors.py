"""Small predictors over exported artifacts, for quick checks and `convbert-tf predict`.

`SavedModelPredictor` needs only `tensorflow` + `tensorflow_text` (what TF Serving links);
`TFLitePredictor` runs `ai_edge_litert` with the tf.text custom ops registered.
"""

import os

import numpy as np

from convbert_tf.export.versioning import existing_versions

IDS_KEYS = ("token_ids", "segment_ids", "padding_mask")


def _as_bytes(texts):
    texts = [texts] if isinstance(texts, (str, bytes)) else list(texts)
    return np.array([t.encode("utf-8") if isinstance(t, str) else t for t in texts], dtype=object)


def _clean_bytes(texts):
    """BERT's control/format-character clean-up on the host: the TFLite graph cannot do it
    (no regex kernel; see convbert_tf/preprocessing/text_hygiene.py)."""
    from convbert_tf.preprocessing.text_hygiene import clean_text_python

    return np.array([clean_text_python(t) for t in _as_bytes(texts)], dtype=object)


def _ids(ids):
    return {k: np.asarray(ids[k], np.int32) for k in IDS_KEYS}


class SavedModelPredictor:
    """Calls the signatures of an exported SavedModel.

    Args:
        path: a version directory (`saved_models/sst2/3`) or a model base path, in which case
            the highest version is loaded, as TF Serving does.

    Example:
    >>> predictor = SavedModelPredictor("saved_models/sst2")
    >>> predictor.predict(["a fine film"])["probabilities"]
    """

    def __init__(self, path):
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

        path = os.fspath(path)
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            versions = existing_versions(path)
            if not versions:
                raise FileNotFoundError(f"No SavedModel (or integer version dir) at {path!r}.")
            path = os.path.join(path, str(versions[-1]))
        self.path = path
        self._tf = tf
        self.model = tf.saved_model.load(path)
        self.signatures = self.model.signatures

    def _call(self, name, **inputs):
        if name not in self.signatures:
            raise ValueError(f"The SavedModel at {self.path!r} has no signature {name!r}; "
                             f"it has {sorted(self.signatures)}.")
        outputs = self.signatures[name](**{k: self._tf.constant(v) for k, v in inputs.items()})
        return {k: v.numpy() for k, v in outputs.items()}

    def predict(self, texts, texts_b=None):
        """Texts (or pairs with `texts_b`) -> `{output name: numpy array}`."""
        if texts_b is None:
            return self._call("serving_default", text=_as_bytes(texts))
        return self._call("serve_pair", text_a=_as_bytes(texts), text_b=_as_bytes(texts_b))

    def predict_ids(self, ids):
        """A dict of int32 `[batch, seq]` ids -> `{output name: numpy array}`."""
        return self._call("serve_ids", **_ids(ids))


class TFLitePredictor:
    """Runs an exported `.tflite` model (ids-only or with the tokenizer inside).

    For an ids-only model, `predict` tokenizes on the host with `preprocessor` (default: a
    `ConvBertTextClassifierPreprocessor` with the packaged vocabulary and the model's sequence
    length; pass your own for a custom vocabulary).

    Args:
        path: the `.tflite` file.
        preprocessor: optional host-side preprocessor for ids-only models.
        num_threads: interpreter threads (None: the runtime's default).

    Example:
    >>> predictor = TFLitePredictor("sst2.tflite")
    >>> predictor.predict(["a fine film"])["logits"].shape
    (1, 2)
    """

    def __init__(self, path, preprocessor=None, num_threads=None):
        import tensorflow_text as tf_text
        from ai_edge_litert.interpreter import InterpreterWithCustomOps

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No TFLite model at {path!r}.")
        self.path = path
        self.interpreter = InterpreterWithCustomOps(
            custom_op_registerers=tf_text.tflite_registrar.SELECT_TFTEXT_OPS,
            model_path=path, num_threads=num_threads,
        )
        self.signatures = self.interpreter.get_signature_list()
        default = self.signatures["serving_default"]["inputs"]
        self.has_tokenizer = "text" in default
        self._preprocessor = preprocessor
        self.sequence_length = None
        if not self.has_tokenizer:
            detail = self.interpreter.get_signature_runner().get_input_details()["token_ids"]
            self.sequence_length = int(detail["shape_signature"][1])

    def _call(self, name, **inputs):
        if name not in self.signatures:
            raise ValueError(f"{self.path!r} has no signature {name!r}; it has "
                             f"{sorted(self.signatures)}.")
        # The signature runner resizes the (dynamic) batch dimension to the inputs' batch.
        return dict(self.interpreter.get_signature_runner(name)(**inputs))

    @property
    def preprocessor(self):
        if self._preprocessor is None:
            from convbert_tf.preprocessing import ConvBertTextClassifierPreprocessor

            self._preprocessor = ConvBertTextClassifierPreprocessor(
                sequence_length=self.sequence_length
            )
        return self._preprocessor

    def predict(self, texts, texts_b=None):
        """Texts (or pairs with `texts_b`) -> `{output name: numpy array}`."""
        if self.has_tokenizer:
            if texts_b is None:
                return self._call("serving_default", text=_clean_bytes(texts))
            return self._call("serve_pair", text_a=_clean_bytes(texts),
                              text_b=_clean_bytes(texts_b))
        x = list(_as_bytes(texts)) if texts_b is None \
            else (list(_as_bytes(texts)), list(_as_bytes(texts_b)))
        if texts_b is not None:
            import tensorflow as tf

            x = (tf.constant(x[0]), tf.constant(x[1]))
        return self.predict_ids(self.preprocessor.pack(x))

    def predict_ids(self, ids):
        """A dict of int32 `[batch, seq]` ids -> `{output name: numpy array}`."""
        name = "serving_default" if not self.has_tokenizer else "serve_ids"
        return self._call(name, **_ids(ids))


def load_saved_model_predictor(path):
    """`SavedModelPredictor(path)`."""
    return SavedModelPredictor(path)


def load_tflite_predictor(path, preprocessor=None, num_threads=None):
    """`TFLitePredictor(path, preprocessor, num_threads)`."""
    return TFLitePredictor(path, preprocessor=preprocessor, num_threads=num_threads)


def load_predictor(path):
    """A `TFLitePredictor` for a `.tflite` file, else a `SavedModelPredictor`."""
    if os.fspath(path).endswith(".tflite"):
        return load_tflite_predictor(path)
    return load_saved_model_predictor(path)
