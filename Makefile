# The two quick-start commands: `make serve` and `make test`. Everything else is a step they call.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup build serve test lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

build: setup
	$(VENV)/bin/minsheng build


serve: build
	$(VENV)/bin/minsheng serve

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

test: build lint
	$(VENV)/bin/pytest

clean:
	rm -rf dist build $(VENV) .pytest_cache
