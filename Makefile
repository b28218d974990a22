# Everyday commands. The README's two set-up commands are `make run` and `make test`.
.PHONY: setup run test ui serve lint format bench

setup:
	bash scripts/bootstrap.sh

run: setup
	bash scripts/run_pipeline.sh

test:
	bash scripts/bootstrap.sh --test
	uv run ruff check .
	uv run pytest

ui: setup
	DAGSTER_HOME=$${DAGSTER_HOME:-$$PWD/.dagster_home} bash -c 'mkdir -p $$DAGSTER_HOME && \
	  { [ -f $$DAGSTER_HOME/dagster.yaml ] || cp deploy/local/dagster.yaml $$DAGSTER_HOME/; } && \
	  uv run dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000'

serve: setup
	uv run python -m eswi_assets.serving

lint:
	uv run ruff check .
	uv run ruff format --check .

format:
	uv run ruff format .
	uv run ruff check --fix .

bench:
	for b in benchmarks/bench_*.py; do uv run python $$b || exit 1; done
