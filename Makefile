# Two commands on a fresh machine: `make demo`, then `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CUSTOMERS ?= 5000

.PHONY: help install demo test lint bench bench-reasons bench-scale soak loop loop-pipeline serve \
	clean

help:
	@echo "make demo    - set up .venv, generate sample exports, ingest -> train -> score"
	@echo "make test    - run the test suite (what CI runs)"
	@echo "make lint    - ruff, and mypy on every package (features/, models/, pipelines/)"
	@echo "make bench   - benchmarks; figures printed and written to bench/results/"
	@echo "make bench-reasons - sharded reasons (1, 2 Dask workers) vs shap.TreeExplainer (minutes)"
	@echo "make bench-scale - every stage at 100k synthetic customers (BENCH_SCALE_CUSTOMERS)"
	@echo "make soak    - 26 simulated weeks of the weekly chain on incremental exports"
	@echo "make loop    - a simulated year of weekly lists with holdouts and actions"
	@echo "make loop-pipeline - the same year driven by the pipeline's own weekly lists"
	@echo "make serve   - run prefect.yaml's schedules for DATA_DIR (server included); Ctrl-C stops"
	@echo "make clean   - remove .venv and everything under data/ except its README"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/churn demo --customers $(CUSTOMERS)

test: $(STAMP)
	$(BIN)/ruff check pipelines features models tests bench
	$(BIN)/mypy features models pipelines
	$(BIN)/python -m pytest -q --durations=8
	$(BIN)/python -m pytest -q -m faults tests/pipelines/test_fault_injection.py

lint: $(STAMP)
	$(BIN)/ruff check pipelines features models tests bench
	$(BIN)/mypy features models pipelines

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.fixed_cost
	$(BIN)/python -m bench.ingest_memory
	OMP_NUM_THREADS=1 $(BIN)/python -m bench.model_size

# Minutes at 200,000 rows, so not part of `make bench` (BENCH_REASONS_ROWS sets the size).
bench-reasons: $(STAMP)
	$(BIN)/python -m bench.reasons

# Tens of minutes at 100,000 customers: every stage in its own process (BENCH_SCALE_CUSTOMERS).
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale_pipeline

soak: $(STAMP)
	$(BIN)/python -m bench.soak

loop: $(STAMP)
	$(BIN)/python -m bench.loop

loop-pipeline: $(STAMP)
	$(BIN)/python -m bench.loop_pipeline

DATA_DIR ?= data
serve: $(STAMP)
	$(BIN)/python -m pipelines.cli serve --data-dir $(DATA_DIR)

clean:
	rm -rf $(VENV)
	find data -mindepth 1 ! -name README.md -exec rm -rf {} +
