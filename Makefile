# Two entry points: `make demo` runs the main job on the shipped defaults, `make test` runs the suite.
# Both create .venv when it is missing and reinstall when pyproject.toml or this file changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
# Last release whose wheel bundles the FaceMesh models; installed without its declared requirements
# (jax, opencv-contrib-python), whose run-time needs pyproject.toml lists instead.
MEDIAPIPE := mediapipe==0.10.21
# Type stubs of TensorRT 10.13 for the mypy check of export/engine.py. --no-deps: they require the real
# tensorrt package, which downloads its libraries from NVIDIA's own index.
TENSORRT_STUBS := tensorrt-stubs==10.13.0.35.1
DEMO_OUT ?= out/demo
# pytest-xdist workers for `make test`: one per core of the 2-core CI machine
TEST_WORKERS ?= 2

.PHONY: demo test lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml Makefile | $(BIN)/python
	$(PIP) install --progress-bar off --upgrade pip
	$(PIP) install --progress-bar off -e ".[test]"
	$(PIP) install --progress-bar off --no-deps $(MEDIAPIPE) $(TENSORRT_STUBS)
	touch $@

demo: $(VENV)/.installed
	$(BIN)/swapcam live --source "$$($(BIN)/swapcam samples --name woman)" \
		--output $(DEMO_OUT)/swapped.mp4 --report $(DEMO_OUT)/latency.json

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
