# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test test-fast index browser evals bench load screenshots clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: this resolves to the local CPU build; a range would pull CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Incremental: unchanged files cost nothing, so this also refreshes a stale index.
index: install
	$(BIN)/assistant ingest

run: index
	$(BIN)/python app.py

# Headless Chromium for the browser tests, from Debian's packages (never a downloaded build).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium chromium-driver" >&2; exit 1; fi; }

test: install browser
	$(BIN)/python -m pytest

# Fakes only (no model, no Chroma server, no browser): under a minute.
test-fast: install
	$(BIN)/python -m pytest -m "unit" -p no:cacheprovider

evals: install
	$(BIN)/python -m evals

bench: install
	$(BIN)/python -m evals.bench

# The load test with its report written to evals/reports/load.md (a plain `make test` writes no report).
load: install browser
	LOAD_REPORT=1 $(BIN)/python -m pytest tests/test_load.py -s

# The README's screenshots, from the browser tests (a plain `make test` writes none).
screenshots: install browser
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest -m browser

clean:
	rm -rf .index .pytest_cache
