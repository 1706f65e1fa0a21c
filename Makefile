# The two quick-start commands: `make serve` and `make test`. Everything else is a step they call.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Test tools outside PyPI: Debian packages (a real browser, roqet, curl) and Comunica from npm.
# Each tool → the Debian package that provides it; only missing ones are installed.
SYSTEM_TOOLS := chromium:chromium chromedriver:chromium-driver roqet:rasqal-utils curl:curl npm:npm \
	virtuoso-t:virtuoso-opensource
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
COMUNICA_VERSION := 4.5.0
COMUNICA := .tools/node/node_modules/.bin/comunica-sparql

.PHONY: setup build serve test lint tools system-tools load bench clean

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

system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# No package.json and no lock file are written: the version is pinned here.
$(COMUNICA):
	mkdir -p .tools/node
	cd .tools/node && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
	  @comunica/query-sparql@$(COMUNICA_VERSION)

tools: system-tools $(COMUNICA)

test: build lint tools
	MINSHENG_REQUIRE_TOOLS=1 $(VENV)/bin/pytest

# The bounded load test (bench/README.md): not part of `make test`, it measures rather than asserts speed.
load: build
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq --no-install-recommends wrk
	$(PY) bench/load.py

# The scale and speed benchmark of issue 5 (bench/README.md): synthetic releases of 100k, 1M and 10M quads, the
# canned queries on each, HTTP against rdflib-endpoint. About 20 minutes; BENCH_ARGS="--sizes 100000" for less.
bench: build
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq --no-install-recommends wrk
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf dist build $(VENV) .tools .pytest_cache bench/releases
