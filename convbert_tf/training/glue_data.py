"""GLUE data: the nine tasks, read from GLUE-format TSV files or prepared TFDS data.

Every problem with the data (unknown task, missing file or column, a label outside the task's
classes, an empty split) raises before any model is built, naming the file, line, column or
value at fault.
"""

import csv
import dataclasses
import os

import numpy as np


@dataclasses.dataclass(frozen=True)
class GlueTask:
    """How one GLUE task is laid out and scored.

    Attributes:
        name: CLI name (`sst2`).
        dirnames: directory names tried under `--data-dir` (GLUE's `SST-2`, lower-case...).
        text_columns: one tuple of accepted header names per text (1 or 2 texts).
        label_columns: accepted header names of the label column.
        label_names: string labels in id order (`entailment` -> 0...); numeric strings are
            accepted too. Empty for regression.
        num_classes: classes, or 1 for regression (STS-B).
        dev_files: dev file names tried in order.
        tfds_config, tfds_validation_split: the `tfds` `glue/<config>` builder and its dev split.
        headerless: for files without a header (GLUE's CoLA): `(num_columns, text_indices,
            label_index)`.
        metrics: the official metrics (names of `glue.make_metrics` entries).
    """

    name: str
    dirnames: tuple
    text_columns: tuple
    label_columns: tuple
    label_names: tuple
    num_classes: int
    dev_files: tuple = ("dev.tsv",)
    tfds_config: str = ""
    tfds_validation_split: str = "validation"
    headerless: tuple = ()
    metrics: tuple = ("accuracy",)

    @property
    def is_regression(self):
        return self.num_classes == 1


_ENTAILMENT = ("entailment", "not_entailment")

GLUE_TASKS = {
    task.name: task
    for task in (
        GlueTask("cola", ("CoLA", "cola"), (("sentence",),), ("label",), (), 2,
                 dev_files=("dev.tsv", "in_domain_dev.tsv", "dev_in_domain.tsv",
                            "dev_out_of_domain.tsv", "out_of_domain_dev.tsv"),
                 tfds_config="cola", headerless=(4, (3,), 1),
                 metrics=("matthews_correlation", "accuracy")),
        GlueTask("sst2", ("SST-2", "sst2", "SST2", "sst-2"), (("sentence",),), ("label",), (), 2,
                 tfds_config="sst2"),
        GlueTask("mrpc", ("MRPC", "mrpc"), (("#1 String", "sentence1"), ("#2 String", "sentence2")),
                 ("Quality", "label"), (), 2, tfds_config="mrpc", metrics=("f1", "accuracy")),
        GlueTask("stsb", ("STS-B", "stsb", "STSB", "sts-b"), (("sentence1",), ("sentence2",)),
                 ("score", "label"), (), 1, tfds_config="stsb",
                 metrics=("pearson", "spearman")),
        GlueTask("qqp", ("QQP", "qqp"), (("question1",), ("question2",)),
                 ("is_duplicate", "label"), (), 2, tfds_config="qqp",
                 metrics=("f1", "accuracy")),
        GlueTask("mnli", ("MNLI", "mnli"), (("sentence1", "premise"), ("sentence2", "hypothesis")),
                 ("gold_label", "label"), ("entailment", "neutral", "contradiction"), 3,
                 dev_files=("dev_matched.tsv", "dev.tsv"), tfds_config="mnli",
                 tfds_validation_split="validation_matched"),
        GlueTask("qnli", ("QNLI", "qnli"), (("question",), ("sentence",)), ("label",),
                 _ENTAILMENT, 2, tfds_config="qnli"),
        GlueTask("rte", ("RTE", "rte"), (("sentence1",), ("sentence2",)), ("label",),
                 _ENTAILMENT, 2, tfds_config="rte"),
        GlueTask("wnli", ("WNLI", "wnli"), (("sentence1",), ("sentence2",)), ("label",), (), 2,
                 tfds_config="wnli"),
    )
}


@dataclasses.dataclass
class GlueSplit:
    """One split in memory: `texts` is a tuple of 1 or 2 lists of str, `labels` a numpy array
    (int32 class ids, or float32 scores for STS-B); `source` says where it came from."""

    texts: tuple
    labels: np.ndarray
    source: str

    def __len__(self):
        return len(self.labels)

    @property
    def features(self):
        """What a task with a preprocessor takes as `x`: a list, or a tuple of two lists."""
        return self.texts[0] if len(self.texts) == 1 else tuple(self.texts)


def get_task(name):
    """The `GlueTask` called `name` (case-insensitive, `sst-2` == `sst2`)."""
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in GLUE_TASKS:
        raise ValueError(
            f"Unknown GLUE task {name!r}; expected one of {', '.join(sorted(GLUE_TASKS))}."
        )
    return GLUE_TASKS[key]


def find_task_dir(task, data_dir):
    """`data_dir/<GLUE name>` (or `data_dir` itself when it already holds `train.tsv`)."""
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"--data-dir {data_dir!r} is not a directory.")
    for dirname in task.dirnames:
        path = os.path.join(data_dir, dirname)
        if os.path.isdir(path):
            return path
    if os.path.isfile(os.path.join(data_dir, "train.tsv")):
        return data_dir
    raise FileNotFoundError(
        f"No {task.name} data under {data_dir!r}: expected one of the directories "
        f"{', '.join(task.dirnames)} holding GLUE-format .tsv files."
    )


def _read_rows(path):
    """TSV rows. GLUE's files are unquoted, some exports are CSV-quoted (fields in `"..."` with
    `""` escapes): try CSV quoting and fall back to none when it breaks the column count."""
    with open(path, encoding="utf-8", newline="") as handle:
        text = handle.read()
    lines = text.splitlines()
    quoted = list(csv.reader(lines, delimiter="\t"))
    if quoted and all(len(row) == len(quoted[0]) for row in quoted if row):
        return quoted
    return list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def _column(header, accepted, path, what):
    for name in accepted:
        if name in header:
            return header.index(name)
    raise ValueError(
        f"{path}: no {what} column; expected one of {list(accepted)}, the header has {header}."
    )


def _parse_label(task, raw, path, line, column):
    value = raw.strip()
    if task.is_regression:
        try:
            return float(value)
        except ValueError:
            raise ValueError(
                f"{path}:{line}: column {column!r} holds {raw!r}, not a number."
            ) from None
    lowered = value.lower()
    if lowered in task.label_names:
        return task.label_names.index(lowered)
    try:
        label = int(value)
    except ValueError:
        label = None
    if label is None or not 0 <= label < task.num_classes:
        allowed = [str(i) for i in range(task.num_classes)] + list(task.label_names)
        raise ValueError(
            f"{path}:{line}: label {raw!r} in column {column!r} is not one of the "
            f"{task.num_classes} classes of {task.name} ({', '.join(allowed)})."
        )
    return label


def read_tsv(task, path, max_examples=None):
    """Reads one GLUE-format TSV file of `task` into a `GlueSplit` (header-based, any column
    order; GLUE's headerless CoLA layout is recognised by its column count)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{task.name}: file {path!r} does not exist.")
    rows = _read_rows(path)
    if not rows:
        raise ValueError(f"{path}: the file is empty.")
    header = [name.strip() for name in rows[0]]
    label_name = next((n for n in task.label_columns if n in header), None)
    if label_name is None and task.headerless and len(header) == task.headerless[0]:
        _, text_indices, label_index = task.headerless
        label_name, body, first_line = f"#{label_index}", rows, 1
    else:
        text_indices = [_column(header, names, path, f"text ({'/'.join(names)})")
                        for names in task.text_columns]
        label_index = _column(header, task.label_columns, path, "label")
        label_name, body, first_line = header[label_index], rows[1:], 2
    texts = tuple([] for _ in text_indices)
    labels = []
    needed = max([label_index, *text_indices]) + 1
    for offset, row in enumerate(body):
        if not row:
            continue
        line = first_line + offset
        if len(row) < needed:
            raise ValueError(
                f"{path}:{line}: {len(row)} tab-separated fields, the columns in use need "
                f"{needed}."
            )
        for out, index in zip(texts, text_indices):
            out.append(row[index])
        labels.append(_parse_label(task, row[label_index], path, line, label_name))
        if max_examples is not None and len(labels) >= max_examples:
            break
    if not labels:
        raise ValueError(f"{path}: no examples (the file has only a header or blank lines).")
    dtype = "float32" if task.is_regression else "int32"
    return GlueSplit(texts, np.asarray(labels, dtype), path)


def load_tsv_splits(task, data_dir, max_train_examples=None):
    """`(train, dev)` `GlueSplit`s from `data_dir` (see `find_task_dir`)."""
    task_dir = find_task_dir(task, data_dir)
    train = read_tsv(task, os.path.join(task_dir, "train.tsv"), max_train_examples)
    for name in task.dev_files:
        path = os.path.join(task_dir, name)
        if os.path.isfile(path):
            return train, read_tsv(task, path)
    raise FileNotFoundError(
        f"{task.name}: no dev file in {task_dir!r}; tried {', '.join(task.dev_files)}."
    )


def load_tfds_splits(task, tfds_data_dir=None, max_train_examples=None):
    """`(train, dev)` from `tensorflow_datasets`' `glue/<config>`, which must be prepared
    locally: nothing can be downloaded here, so a missing dataset is an error saying so."""
    import tensorflow_datasets as tfds

    name = f"glue/{task.tfds_config}"
    try:
        builder = tfds.builder(name, data_dir=tfds_data_dir)
        prepared = builder.is_prepared()
    except Exception as error:  # tfds raises many types for a missing / broken dataset
        raise FileNotFoundError(f"tensorflow-datasets cannot open {name}: {error}") from None
    if not prepared:
        raise FileNotFoundError(
            f"tensorflow-datasets has no prepared {name} in {builder.data_dir!r} and cannot "
            "download it here (no network). Prepare it where there is network "
            f"(`tfds build {name}`) and copy the data dir over (--tfds-data-dir), or pass "
            "--data-dir with GLUE-format .tsv files."
        )
    train_split = "train" if max_train_examples is None else f"train[:{max_train_examples}]"
    return tuple(
        _tfds_split(task, builder, split, f"tfds:{name}:{split}")
        for split in (train_split, task.tfds_validation_split)
    )


def _tfds_split(task, builder, split, source):
    columns = None
    texts, labels = None, []
    for example in builder.as_dataset(split=split).as_numpy_iterator():
        if columns is None:
            columns = [next(n for n in names if n in example) for names in task.text_columns]
            texts = tuple([] for _ in columns)
        for out, column in zip(texts, columns):
            out.append(example[column].decode("utf-8"))
        labels.append(example["label"])
    if not labels:
        raise ValueError(f"{source}: the split is empty.")
    labels = np.asarray(labels, "float32" if task.is_regression else "int32")
    if not task.is_regression and (labels.min() < 0 or labels.max() >= task.num_classes):
        bad = labels[(labels < 0) | (labels >= task.num_classes)][0]
        raise ValueError(f"{source}: label {bad} is outside the {task.num_classes} classes "
                         "(unlabelled test split?).")
    return GlueSplit(texts, labels, source)


def load_glue(task, data_dir=None, tfds_data_dir=None, max_train_examples=None):
    """`(task, train, dev)` for a task name: TSV files when `data_dir` is given, else TFDS.

    Example:
    >>> task, train, dev = load_glue("rte", data_dir="/work/shared/data/glue")
    >>> len(train), train.features[0][0]
    """
    task = get_task(task) if isinstance(task, str) else task
    if max_train_examples is not None and max_train_examples <= 0:
        raise ValueError(f"--max-train-examples must be positive, got {max_train_examples}.")
    if data_dir is not None:
        train, dev = load_tsv_splits(task, data_dir, max_train_examples)
    else:
        train, dev = load_tfds_splits(task, tfds_data_dir, max_train_examples)
    return task, train, dev
