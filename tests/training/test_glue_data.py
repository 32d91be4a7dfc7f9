"""GLUE data: layouts of the real files, and clear errors before any training."""

import os

import numpy as np
import pytest

from convbert_tf.training.glue_data import GLUE_TASKS, get_task, load_glue, read_tsv


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def test_all_nine_tasks_and_unknown_names():
    assert sorted(GLUE_TASKS) == sorted(
        ["cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli"])
    assert get_task("SST-2").name == "sst2"
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst3'.*cola, mnli"):
        get_task("sst3")


def test_real_glue_layouts(tmp_path):
    root = str(tmp_path)
    write(f"{root}/MRPC/train.tsv", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
          "1\t1\t2\tHe said \"yes\".\tHe agreed.\n0\t3\t4\tA cat.\tA car.\n")
    write(f"{root}/MRPC/dev.tsv", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t5\t6\ta\tb\n")
    task, train, dev = load_glue("mrpc", data_dir=root)
    assert train.texts == (['He said "yes".', "A cat."], ["He agreed.", "A car."])
    np.testing.assert_array_equal(train.labels, [1, 0])
    assert len(dev) == 1 and task.metrics == ("f1", "accuracy")

    write(f"{root}/MNLI/train.tsv", "index\tsentence1\tsentence2\tgold_label\n"
          "0\tp\th\tneutral\n1\tp2\th2\tcontradiction\n2\tp3\th3\tentailment\n")
    write(f"{root}/MNLI/dev_matched.tsv", "index\tsentence1\tsentence2\tgold_label\n0\ta\tb\tneutral\n")
    _, train, dev = load_glue("mnli", data_dir=root)
    np.testing.assert_array_equal(train.labels, [1, 2, 0])
    assert dev.source.endswith("dev_matched.tsv")

    write(f"{root}/STS-B/train.tsv", "index\tsentence1\tsentence2\tscore\n0\ta\tb\t3.8\n")
    write(f"{root}/STS-B/dev.tsv", "index\tsentence1\tsentence2\tscore\n0\ta\tb\t0.25\n")
    _, train, _ = load_glue("stsb", data_dir=root)
    assert train.labels.dtype == np.float32 and train.labels[0] == pytest.approx(3.8)

    # GLUE's CoLA has no header: source, label, original label, sentence.
    write(f"{root}/CoLA/train.tsv", "gj04\t1\t\tThe sailors rode the breeze.\n"
          "gj04\t0\t*\tThe more we study verbs.\n")
    write(f"{root}/CoLA/in_domain_dev.tsv", "gj04\t1\t\tOk.\n")
    _, train, dev = load_glue("cola", data_dir=root)
    assert train.texts[0] == ["The sailors rode the breeze.", "The more we study verbs."]
    np.testing.assert_array_equal(train.labels, [1, 0])

    # CSV-quoted export (RTE in /work/shared), string labels entailment / not_entailment.
    write(f"{root}/RTE/train.tsv", 'sentence1\tsentence2\tlabel\tidx\n'
          '"He said ""hi""\tthere."\tA greeting.\tnot_entailment\t0\nA.\tB.\tentailment\t1\n')
    write(f"{root}/RTE/dev.tsv", "sentence1\tsentence2\tlabel\tidx\nA.\tB.\t0\t0\n")
    _, train, _ = load_glue("rte", data_dir=root)
    assert train.texts[0][0] == 'He said "hi"\tthere.'
    np.testing.assert_array_equal(train.labels, [1, 0])


def test_errors_name_the_file_column_and_value(tmp_path):
    root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match="No sst2 data under .*SST-2"):
        load_glue("sst2", data_dir=root)
    write(f"{root}/SST-2/train.tsv", "sentence\tlabel\nok\t1\n")
    with pytest.raises(FileNotFoundError, match="no dev file .*dev.tsv"):
        load_glue("sst2", data_dir=root)

    path = f"{root}/x.tsv"
    write(path, "text\tlabel\nok\t1\n")
    with pytest.raises(ValueError, match=r"x.tsv: no text \(sentence\) column.*\['text', 'label'\]"):
        read_tsv(get_task("sst2"), path)
    write(path, "sentence\tlabel\nok\t1\nbad\t2\n")
    with pytest.raises(ValueError, match=r"x.tsv:3: label '2' in column 'label' is not one of the 2"):
        read_tsv(get_task("sst2"), path)
    write(path, "sentence1\tsentence2\tlabel\na\tb\tmaybe\n")
    with pytest.raises(ValueError, match="x.tsv:2: label 'maybe'.*entailment, not_entailment"):
        read_tsv(get_task("rte"), path)
    write(path, "sentence1\tsentence2\tscore\na\tb\thigh\n")
    with pytest.raises(ValueError, match="x.tsv:2: column 'score' holds 'high', not a number"):
        read_tsv(get_task("stsb"), path)
    write(path, "sentence\tlabel\n")
    with pytest.raises(ValueError, match="x.tsv: no examples"):
        read_tsv(get_task("sst2"), path)
    write(path, "")
    with pytest.raises(ValueError, match="x.tsv: the file is empty"):
        read_tsv(get_task("sst2"), path)
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        read_tsv(get_task("sst2"), f"{root}/missing.tsv")
    with pytest.raises(ValueError, match="max-train-examples"):
        load_glue("sst2", data_dir=root, max_train_examples=0)


def test_tfds_without_prepared_data_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot download|cannot open"):
        load_glue("sst2", tfds_data_dir=str(tmp_path))
