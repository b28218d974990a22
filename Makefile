# Everyday commands. The README's two set-up commands are `make run` and `make test`.
# Tools come from .tools/ (scripts/tools.sh), never from the caller's PATH: a shell with only the
# system directories runs every recipe the same way.
.PHONY: setup run test ui serve lint format bench

export ESWI_TOOLS_DIR ?= $(CURDIR)/.tools
export PATH := $(ESWI_TOOLS_DIR)/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never
export UV_SYSTEM_CERTS := 1
UV := $(ESWI_TOOLS_DIR)/bin/uv

setup:
	bash scripts/bootstrap.sh

run: setup
	bash scripts/run_pipeline.sh

test:
	bash scripts/bootstrap.sh --test
	$(UV) run ruff check .
	$(UV) run pytest

ui: setup
	DAGSTER_HOME=$${DAGSTER_HOME:-$$PWD/.dagster_home} bash -c 'mkdir -p $$DAGSTER_HOME && \
	  { [ -f $$DAGSTER_HOME/dagster.yaml ] || cp deploy/local/dagster.yaml $$DAGSTER_HOME/; } && \
	  $(UV) run dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000'

serve: setup
	$(UV) run python -m eswi_assets.serving

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .

format:
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

bench:
	for b in benchmarks/bench_*.py; do $(UV) run python $$b || exit 1; done
