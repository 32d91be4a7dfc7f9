"""The README's first-screen usage example really runs, and its two commands are the Makefile's."""

import json
import os
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def _readme():
    with open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_usage_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", _readme(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 12
    # Run where the example's relative paths (saved_models/...) land in a scratch directory.
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": REPO_ROOT})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "saved_models" / "sst2" / "1" / "saved_model.pb").exists()


def test_two_commands_and_ci_agree():
    readme = _readme()
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    with open(os.path.join(REPO_ROOT, ".ci", "run"), encoding="utf-8") as f:
        ci = [line for line in f.read().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "make test"


# ---------------------------------------------------------------------------------------------
# Every number in README.md and docs/*.md that a script measured is marked with the results
# file it comes from, and must equal it (bench/README.md, "Numbers in the docs"):
#
#   <!-- results bench/results/demo.json: **{dev_accuracy:.1%}** -->**82.7%**
#
# The text right after the marker (after one newline when the template starts on a new line,
# as for whole tables) must begin with the template rendered from the JSON file.
# Placeholders: {dotted.key.path[|len][/divisor|*factor]:format_spec}; `|len` counts a list
# or dict; `{a ÷ b:spec}` is a ratio and `{a + b:spec}` a sum of two such values; the spec
# `sciN` writes
# N decimals in compact scientific notation (1.2e-6).
# ---------------------------------------------------------------------------------------------

MARKER = re.compile(r"<!-- results (\S+?\.json):(.*?)-->", re.S)  # not the `FILE` in prose
PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")
MARKDOWN_FILES = ["README.md"] + sorted(
    os.path.join("docs", name) for name in os.listdir(os.path.join(REPO_ROOT, "docs"))
    if name.endswith(".md")
) + ["bench/README.md"]


def _lookup(data, path):
    """`a.b.c` in nested dicts/lists; keys that contain dots are matched greedily."""
    parts = path.split(".")
    while parts:
        for n in range(len(parts), 0, -1):
            key = ".".join(parts[:n])
            if isinstance(data, list) and key.isdigit():
                data, parts = data[int(key)], parts[n:]
                break
            if isinstance(data, dict) and key in data:
                data, parts = data[key], parts[n:]
                break
        else:
            raise KeyError(f"{path!r}: no {parts[0]!r} among {sorted(data)[:12]}")
    return data


def _format(value, spec):
    sci = re.fullmatch(r"sci(\d)", spec or "")
    if sci:
        text = f"{value:.{sci.group(1)}e}"
        return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2),
                      text)
    return format(value, spec or "")


def _value(data, path):
    parts = re.fullmatch(r"(.+?)(\|len)?(?:([/*])([0-9.e+-]+))?", path)
    value = _lookup(data, parts.group(1))
    if parts.group(2):
        value = len(value)
    if parts.group(3) == "/":
        value = value / float(parts.group(4))
    elif parts.group(3) == "*":
        value = value * float(parts.group(4))
    return value


def render(template, data):
    def one(match):
        expression, spec = match.group(1).strip(), match.group(2)
        if " ÷ " in expression:  # the ratio of two values
            a, b = (_value(data, side.strip()) for side in expression.split(" ÷ "))
            return _format(a / b, spec)
        if " + " in expression:  # a sum of values
            return _format(sum(_value(data, side.strip()) for side in expression.split(" + ")),
                           spec)
        return _format(_value(data, expression), spec)

    return PLACEHOLDER.sub(one, template)


def result_markers():
    found = []
    for name in MARKDOWN_FILES:
        with open(os.path.join(REPO_ROOT, name), encoding="utf-8") as f:
            text = f.read()
        for match in MARKER.finditer(text):
            found.append((name, text, match))
    return found


def test_marked_numbers_equal_their_results_files():
    markers = result_markers()
    assert len(markers) >= 10  # the mechanism is in use (README, docs)
    problems = []
    for name, text, match in markers:
        results_file, template = match.group(1), match.group(2)
        with open(os.path.join(REPO_ROOT, results_file), encoding="utf-8") as f:
            data = json.load(f)
        block = template.startswith("\n")  # a table: template lines, then the table
        template = template.strip("\n").rstrip() if block else template.strip(" ")
        want = render(template, data)
        after = text[match.end():]
        if block and after.startswith("\n"):
            after = after[1:]
        if not after.startswith(want):
            line = text[:match.start()].count("\n") + 1
            problems.append(f"{name}:{line}: {results_file} says\n{want}\nbut the text is\n"
                            f"{after[:len(want)]}")
    assert not problems, "\n\n".join(problems)


def test_render_and_lookup():
    data = {"a": {"b.c": [1.5, 8032.3]}, "x": 1.2e-6, "n": 45227}
    assert render("{a.b.c.1/1024:.2f} GiB", data) == "7.84 GiB"
    assert render("{x:sci1} and {n:,}", data) == "1.2e-6 and 45,227"
    assert render("{a.b.c.0*100:.0f}%", data) == "150%"
    assert render("{a.b.c|len} and {a.b.c|len/2:.0f}", data) == "2 and 1"
    assert render("{n ÷ a.b.c.1:.2f} {a.b.c.0 + a.b.c.0:.0f}", data) == "5.63 3"
