"""`tf.distribute` for fine-tuning: one call to get a strategy, and the CPU test set-up.

XLA stays on under every strategy: the tasks compile per replica under (MultiWorker)Mirrored
strategies and Keras' whole-step XLA elsewhere (see `convbert_tf.tasks.xla_task`). The TPU path
is documented in `docs/training.md`; it cannot run here.
"""

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def split_cpu(num_devices):
    """Splits the CPU into `num_devices` logical devices (for MirroredStrategy on a CPU box).

    Must run before TensorFlow initialises its devices (before any op runs).

    Example:
    >>> split_cpu(2)
    >>> strategy = create_strategy("mirrored")  # 2 replicas: /cpu:0, /cpu:1
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
    )


def create_strategy(kind="default", tpu=None):
    """A `tf.distribute.Strategy` by name.

    Args:
        kind: `"default"` (no distribution), `"mirrored"` (all local GPUs, or all logical CPUs
            when there is no GPU), `"multi_worker"` (`MultiWorkerMirroredStrategy`: one process
            per worker, cluster from the `TF_CONFIG` environment variable; create it before
            any other TensorFlow op) or `"tpu"` (`TPUStrategy`).
        tpu: TPU name / address for `kind="tpu"` (None: the local / Colab TPU).

    Example:
    >>> strategy = create_strategy("mirrored")
    >>> with strategy.scope():
    ...     classifier = ConvBertTextClassifier(backbone, 2)   # compiled with XLA per replica
    """
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        devices = devices or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if kind == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("multi_worker needs the cluster in the TF_CONFIG environment "
                             "variable (see docs/training.md).")
        json.loads(os.environ["TF_CONFIG"])  # fail early on malformed JSON
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {kind!r}; expected one of {', '.join(STRATEGIES)}.")


def shard_by_data(dataset):
    """Multi-worker sharding by element: in-memory datasets have no files to shard by."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)
