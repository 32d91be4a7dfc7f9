# Two commands for a fresh clone: `make demo` (the main job) and `make test` (the whole suite).
# Both create .venv if it is missing and install the package with its dev extra into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/sst2_demo.py $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check convbert_tf tests examples bench

test: lint
	$(PY) -m pytest $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
