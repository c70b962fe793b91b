# Set-up and everyday targets. `make demo` and `make test` are the two commands the README starts with.
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    ?= .venv
BIN     := $(VENV)/bin
SHARED  ?= $(or $(EVALKIT_SHARED),../shared)
PIP     := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: install install-test demo test lint bench clean

# The authors' weight files for the deep trackers: $(SHARED)/weights (../shared/weights) when that folder exists and
# the user has not set EVALKIT_WEIGHTS; trackers resolve their catalog files there (trackers/weights.py).
ifeq ($(origin EVALKIT_WEIGHTS),undefined)
ifneq ($(wildcard $(SHARED)/weights),)
demo test: export EVALKIT_WEIGHTS := $(abspath $(SHARED)/weights)
endif
endif

# torch is pinned and installed first: an unpinned torch pulled in by a dependency would fetch a multi-GB CUDA build.
$(BIN)/.evalkit-installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[trackers]'
	touch $@

# got10k is an interoperability target used by tests and benchmarks. It is installed without its declared
# dependencies because it asks for opencv-python, which would replace opencv-contrib-python-headless;
# the `test` extra carries the modules it really imports (six, wget, shapely, pillow). vot-toolkit (the official VOT
# toolkit, an interoperability target) is installed the same way; the `vot-compat` extra carries its dependencies.
$(BIN)/.evalkit-test-installed: $(BIN)/.evalkit-installed pyproject.toml
	$(PIP) -e '.[trackers,test]'
	$(PIP) --no-deps got10k==0.1.3 vot-toolkit==0.9.0
	touch $@

install: $(BIN)/.evalkit-installed
install-test: $(BIN)/.evalkit-test-installed

# The built-in demo suite is generated (seeded, about 2 s) into the cache on first use: no download.
demo: install
	$(BIN)/evalkit run --trackers kcf,csrt --suite demo --workers 2

test: install-test
	EVALKIT_SHARED=$(SHARED) $(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check evalkit trackers tests benchmarks tools

bench: install-test
	EVALKIT_SHARED=$(SHARED) $(BIN)/python benchmarks/score_speed.py
	EVALKIT_SHARED=$(SHARED) $(BIN)/python benchmarks/report_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
