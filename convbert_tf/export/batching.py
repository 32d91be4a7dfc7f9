"""TF Serving server-side batching config (`--batching_parameters_file`) written with an export.

TF Serving's batcher merges concurrent requests and pads each merged batch up to one of
`allowed_batch_sizes`; making those the export's batch buckets means the batcher's batches hit
programs the warmup already compiled. The file is the text form of TF Serving's
`BatchingParameters` proto (tensorflow_serving/servables/tensorflow/session_bundle_config.proto);
its fields are written by hand because the `tensorflow-serving-api` wheel does not ship that
proto module.
"""

import os

BATCHING_FILE = os.path.join("assets.extra", "batching_parameters.txt")


def batching_parameters_text(batch_buckets, batch_timeout_micros=2000, num_batch_threads=None,
                             max_enqueued_batches=100):
    """The `BatchingParameters` text proto for `batch_buckets`.

    Args:
        batch_buckets: increasing batch sizes; the last is `max_batch_size` (TF Serving requires
            the last allowed size to equal it).
        batch_timeout_micros: how long the batcher waits to fill a batch (2 ms: a small share of
            a ConvBERT forward at batch 1).
        num_batch_threads: batches run in parallel; default: the CPU count (each batch already
            uses intra-op threads, so more does not help).
        max_enqueued_batches: queue length before requests are rejected.

    Example:
    >>> print(batching_parameters_text((1, 2, 4)))
    max_batch_size { value: 4 }
    ...
    """
    buckets = [int(b) for b in batch_buckets]
    num_batch_threads = num_batch_threads or os.cpu_count() or 1
    lines = [
        f"max_batch_size {{ value: {buckets[-1]} }}",
        f"batch_timeout_micros {{ value: {int(batch_timeout_micros)} }}",
        f"max_enqueued_batches {{ value: {int(max_enqueued_batches)} }}",
        f"num_batch_threads {{ value: {int(num_batch_threads)} }}",
        *(f"allowed_batch_sizes: {b}" for b in buckets),
        # Inputs have a fixed sequence length already; nothing variable to pad.
        "pad_variable_length_inputs: false",
    ]
    return "\n".join(lines) + "\n"


def parse_batching_parameters(text):
    """The fields of a `batching_parameters_text` file as a dict (for checks and tests)."""
    fields = {"allowed_batch_sizes": []}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("allowed_batch_sizes:"):
            fields["allowed_batch_sizes"].append(int(line.split(":", 1)[1]))
        elif "{ value:" in line:
            name, rest = line.split("{", 1)
            fields[name.strip()] = int(rest.split(":", 1)[1].strip(" }"))
        elif ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip()] = value.strip()
    return fields


def write_batching_parameters(export_dir, batch_buckets, **kwargs):
    """Writes `export_dir/assets.extra/batching_parameters.txt`; returns its path.

    Serve with `tensorflow_model_server --enable_batching=true
    --batching_parameters_file=<export_dir>/assets.extra/batching_parameters.txt ...`.
    """
    path = os.path.join(export_dir, BATCHING_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(batching_parameters_text(batch_buckets, **kwargs))
    return path
