# Two commands on a fresh machine: `make demo` (set up + main job), `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.yuyi-installed
DATA_DIR ?= ../shared/data

.PHONY: setup demo test test-slow lint quality

setup: $(STAMP)

# torch first, from the CPU build: anything that pulls torch by itself gets a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	$(VENV)/bin/yuyi models pull multilingual-e5-small
	touch $(STAMP)

demo: setup
	$(VENV)/bin/yuyi demo

test: setup
	$(VENV)/bin/pytest -m "not slow" -q

test-slow: setup
	YUYI_DATA_DIR=$(DATA_DIR) $(VENV)/bin/pytest -m slow -q

lint: setup
	$(VENV)/bin/ruff check yuyi tests scripts

quality: setup
	$(PY) scripts/model_quality.py --data-dir $(DATA_DIR)
