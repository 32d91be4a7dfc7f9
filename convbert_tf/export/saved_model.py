"""`export_saved_model`: a task -> a TF Serving-ready SavedModel version directory."""

import os
import shutil

from convbert_tf.export.batching import write_batching_parameters
from convbert_tf.export.precision import check_precision, warn_if_no_native_bf16, with_bf16_matmuls
from convbert_tf.export.serving_functions import (
    DEFAULT_BATCH_BUCKETS,
    ServingFunctions,
    check_batch_buckets,
)
from convbert_tf.export.versioning import publish, resolve_version, staging_dir
from convbert_tf.export.warmup import warmup_inputs, write_warmup_requests

SIGNATURES = ("serving_default", "serve_pair", "serve_ids")


def export_saved_model(task, path, sequence_length=None, version=None, *, preprocessor=None,
                       jit_compile=None, precision="float32", batch_buckets=None,
                       warmup_batch_sizes=None, warmup_texts=None, overwrite=False,
                       model_name=None):
    """Exports `task` as `path/<version>/`, a SavedModel that TF Serving loads as is.

    Signatures (outputs: `logits` and `probabilities` for classifiers, `predictions` for
    regressors, float32):

    * `serving_default`: `text` (`tf.string [None]`), tokenised inside the graph;
    * `serve_pair`: `text_a`, `text_b` (`tf.string [None]`), for sentence-pair tasks;
    * `serve_ids`: `token_ids`, `segment_ids`, `padding_mask` (int32
      `[None, sequence_length]`), checked at run time (ranges, equal shapes).

    Without a preprocessor only `serve_ids` exists (also as `serving_default`). The model part
    is XLA-compiled when `jit_compile=True`; TF Serving on CPU must then run with
    `--xla_cpu_compilation_enabled=true`. XLA compiles once per batch size, so the compiled
    part only ever sees the `batch_buckets` sizes: each request batch is padded up to the
    smallest bucket that holds it (bigger ones run in chunks of the largest) and the answer is
    sliced back. Warmup requests (`assets.extra/tf_serving_warmup_requests`) for each signature
    and bucket make TF Serving compile all of them before it serves, and
    `assets.extra/batching_parameters.txt` is a TF Serving `--batching_parameters_file` whose
    `allowed_batch_sizes` are the buckets. The version directory is written next to its final
    place and renamed in at the end, so TF Serving never sees half of it.

    `precision="bfloat16"` rebuilds the task with bf16 weights and matmuls and everything
    element-wise (LayerNorm, softmax, GELU, the span convolution) in float32, where
    TensorFlow's CPU kernels are faster (`convbert_tf.export.precision`); outputs float32.
    It pays on CPUs with AVX512_BF16 / AMX through oneDNN, not through XLA (XLA's CPU backend
    runs bf16 at fp32 speed or slower; see docs/export.md), so `jit_compile` defaults to False
    for it. A warning is logged when this CPU lacks native bf16.

    Args:
        task: a `ConvBertTextClassifier` or `ConvBertTextRegressor`.
        path: the model base path, e.g. `saved_models/sst2`; TF Serving's `--model_base_path`.
        sequence_length: fixed padded length; default: the preprocessor's (128 without one).
        version: int version directory; None: one more than the highest existing one.
        preprocessor: overrides `task.preprocessor`.
        jit_compile: compile the id -> output function with XLA; None: True for float32,
            False for bfloat16 (the faster path for each, measured).
        precision: `"float32"` or `"bfloat16"`.
        batch_buckets: increasing batch sizes the model part runs at; None: `(1, 2, 4, 8, 16,
            32, 64)` with XLA, none without (graph kernels take any shape without compiling);
            empty: no bucketing.
        warmup_batch_sizes: batch sizes to warm up; None: every bucket (`(1, 8)` without
            buckets); empty: no warmup file.
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
    check_precision(precision)
    if jit_compile is None:
        jit_compile = precision == "float32"
    if precision == "bfloat16":
        warn_if_no_native_bf16()
        if preprocessor is None:
            preprocessor = getattr(task, "preprocessor", None)
        task = with_bf16_matmuls(task)
    if batch_buckets is None:
        batch_buckets = DEFAULT_BATCH_BUCKETS if jit_compile else ()
    batch_buckets = check_batch_buckets(batch_buckets)
    if warmup_batch_sizes is None:
        warmup_batch_sizes = batch_buckets or (1, 8)
    functions = ServingFunctions(task, preprocessor, sequence_length, jit_compile=jit_compile,
                                 validate_inputs=True, batch_buckets=batch_buckets)
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
        if batch_buckets:
            write_batching_parameters(staged, batch_buckets)
        publish(staged, version_dir)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return version_dir
