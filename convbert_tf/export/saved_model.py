"""`export_saved_model`: a task -> a TF Serving-ready SavedModel version directory."""

import os
import shutil

from convbert_tf.export.serving_functions import ServingFunctions
from convbert_tf.export.versioning import publish, resolve_version, staging_dir
from convbert_tf.export.warmup import warmup_inputs, write_warmup_requests

SIGNATURES = ("serving_default", "serve_pair", "serve_ids")


def export_saved_model(task, path, sequence_length=None, version=None, *, preprocessor=None,
                       jit_compile=True, warmup_batch_sizes=(1, 8), warmup_texts=None,
                       overwrite=False, model_name=None):
    """Exports `task` as `path/<version>/`, a SavedModel that TF Serving loads as is.

    Signatures (outputs: `logits` and `probabilities` for classifiers, `predictions` for
    regressors, float32):

    * `serving_default`: `text` (`tf.string [None]`), tokenised inside the graph;
    * `serve_pair`: `text_a`, `text_b` (`tf.string [None]`), for sentence-pair tasks;
    * `serve_ids`: `token_ids`, `segment_ids`, `padding_mask` (int32
      `[None, sequence_length]`), checked at run time (ranges, equal shapes).

    Without a preprocessor only `serve_ids` exists (also as `serving_default`). The model part
    is XLA-compiled when `jit_compile=True`; TF Serving on CPU must then run with
    `--xla_cpu_compilation_enabled=true`. Warmup requests (`assets.extra/`) for each signature
    and batch size make TF Serving compile before it serves. The version directory is written
    next to its final place and renamed in at the end, so TF Serving never sees half of it.

    Args:
        task: a `ConvBertTextClassifier` or `ConvBertTextRegressor`.
        path: the model base path, e.g. `saved_models/sst2`; TF Serving's `--model_base_path`.
        sequence_length: fixed padded length; default: the preprocessor's (128 without one).
        version: int version directory; None: one more than the highest existing one.
        preprocessor: overrides `task.preprocessor`.
        jit_compile: compile the id -> output function with XLA.
        warmup_batch_sizes: batch sizes to warm up (each is one XLA compilation per signature);
            empty: no warmup file.
        warmup_texts: texts for the warmup requests (default: two fixed sentences).
        overwrite: replace an existing non-empty version directory instead of raising.
        model_name: name in the warmup requests' model spec (default: basename of `path`).

    Returns:
        The version directory written, e.g. `saved_models/sst2/3`.

    Example:
    ```python
    export_dir = export_saved_model(classifier, "saved_models/sst2")
    # tensorflow_model_server --model_base_path=$PWD/saved_models/sst2 --model_name=sst2 \\
    #     --rest_api_port=8501 --xla_cpu_compilation_enabled=true
    ```
    """
    functions = ServingFunctions(task, preprocessor, sequence_length, jit_compile=jit_compile,
                                 validate_inputs=True)
    version_dir = resolve_version(os.fspath(path), version, overwrite)
    names = [n for n in SIGNATURES if n in functions.endpoints()]
    archive = functions.export_archive(names)
    staged = staging_dir(version_dir)
    try:
        archive.write_out(staged, verbose=False)
        if warmup_batch_sizes:
            model_name = model_name or os.path.basename(os.path.abspath(os.fspath(path)))
            requests = warmup_inputs(names, warmup_batch_sizes, functions.sequence_length,
                                     warmup_texts)
            write_warmup_requests(staged, model_name, requests)
        publish(staged, version_dir)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return version_dir
