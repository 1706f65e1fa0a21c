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
# The SPARQL editor served at /editor, from the app's own static files (no CDN): `make yasgui` fetches this
# version with `npm pack` (a tarball only: no package.json or lock file here) and copies its built JS and CSS
# and its package.json (name, version, licence) into YASGUI_DIR; the files are committed, and
# tests/test_editor.py checks them against YASGUI_DIR/SHA256SUMS.
YASGUI_VERSION := 4.6.2
YASGUI_DIR := src/minsheng/web/static/yasgui
# Where `make serve` listens: `make serve PORT=8080 HOST=0.0.0.0`.
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: setup build serve test test-fast lint tools system-tools load bench clean yasgui

# Progress lines ("==> …") before each step that runs long without output, so a cold start never looks stuck.
$(STAMP): pyproject.toml
	@echo "==> creating the virtual environment $(VENV)"
	python3 -m venv $(VENV)
	@echo "==> upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> installing minsheng and its test tools into $(VENV) (about a minute on a cold start)"
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)
	@echo "==> set-up done"

setup: $(STAMP)

build: setup
	@echo "==> compiling, validating and writing the release into dist/ (about 20 s)"
	$(VENV)/bin/minsheng build

serve: build
	@echo "==> starting the server on http://$(HOST):$(PORT)/ (PORT=… HOST=… to change; Ctrl-C stops it)"
	$(VENV)/bin/minsheng serve --host $(HOST) --port $(PORT)

# Style, the layers (import-linter contracts in pyproject.toml) and the types (mypy --strict), all in make test.
lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# A CJK font too (no command to look for: fontconfig is asked), so browser screenshots show Chinese text.
system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# No package.json and no lock file are written: the version is pinned here.
$(COMUNICA):
	@echo "==> installing Comunica $(COMUNICA_VERSION) from npm into .tools/node (about a minute)"
	mkdir -p .tools/node
	cd .tools/node && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
	  @comunica/query-sparql@$(COMUNICA_VERSION)

tools: system-tools $(COMUNICA)

# --durations: the slowest tests, printed where CI's 20-minute budget is watched.
test: build lint tools
	@echo "==> running the whole test suite (several minutes)"
	MINSHENG_REQUIRE_TOOLS=1 $(VENV)/bin/pytest --durations=20

# The edit-test loop: the tests that start no server, browser, whole build or long subprocess (under a minute).
test-fast: setup
	$(VENV)/bin/pytest -q -m "not slow"

# The bounded load test (bench/README.md): not part of `make test`, it measures rather than asserts speed.
load: build
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq --no-install-recommends wrk
	$(PY) bench/load.py

# The scale and speed benchmark of issue 5 (bench/README.md): synthetic releases of 100k, 1M and 10M quads, the
# canned queries on each, HTTP against the Oxigraph server and rdflib-endpoint. About 2 hours on 2 cores, most of
# it the 10M size's persistent store and validation; BENCH_ARGS="--served-only" skips those (about 50 minutes),
# "--served-only --reuse" the generation too (the last run's releases; 15 minutes), "--sizes 100000" is minutes.
# Then bench/remote.py: Virtuoso through the remote store at 1M quads (REMOTE_BENCH_ARGS="--sizes 1000000,10000000").
bench: build
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq --no-install-recommends wrk
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@command -v virtuoso-t >/dev/null 2>&1 || $(SUDO) apt-get install -y -qq --no-install-recommends virtuoso-opensource
	@# bench/run.py exits 1 when a target is not met, a measured run all the same: the remote part still runs,
	@# and make exits with run.py's status after it (any other failure stops here).
	@status=0; $(PY) bench/run.py $(BENCH_ARGS) || status=$$?; [ $$status -le 1 ] || exit $$status; \
	  echo "==> the remote store: every canned query on Virtuoso against the embedded store, answers compared (bench/remote.py, ~15 min)"; \
	  $(PY) bench/remote.py $(REMOTE_BENCH_ARGS) && exit $$status

yasgui:
	@echo "==> fetching @zazuko/yasgui@$(YASGUI_VERSION) with npm pack"
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent @zazuko/yasgui@$(YASGUI_VERSION) >/dev/null && tar xzf zazuko-yasgui-$(YASGUI_VERSION).tgz) && \
	  cp "$$tmp/package/build/yasgui.min.js" "$$tmp/package/build/yasgui.min.css" "$$tmp/package/package.json" $(YASGUI_DIR)/ && \
	  sed -i '/sourceMappingURL=/d' $(YASGUI_DIR)/yasgui.min.js
	cd $(YASGUI_DIR) && sha256sum yasgui.min.js yasgui.min.css package.json LICENSE > SHA256SUMS

clean:
	rm -rf dist build $(VENV) .tools .pytest_cache bench/releases
