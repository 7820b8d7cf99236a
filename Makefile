# The two commands a new machine needs: `make run` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint typecheck unit bench bench-accuracy bench-speed synth clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/setup.sh models/manifest.json
	bash scripts/setup.sh

run: $(STAMP)
	$(BIN)/hmtocr serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache  # the layering contracts in .importlinter

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

BENCH_DIR ?= out/bench-mixed
bench-data: $(STAMP)
	$(BIN)/hmtocr synth --n 300 --seed 1 --tier mixed --out $(BENCH_DIR)

bench: $(STAMP) bench-data
	$(BIN)/hmtocr bench accuracy --data $(BENCH_DIR) --engine hmt --engine baseline
	$(BIN)/hmtocr bench speed

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
