#!/usr/bin/env bash
# The main job on the embedded default: serve the demo site on 127.0.0.1:8765, materialize the
# data half for one crawl date (today in Asia/Taipei unless ESWI_PARTITION is set), then train the
# models on every crawled date (they read all partitions of cleaned_corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp deploy/local/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
uv run python -m eswi_assets.pools

# `dagster asset materialize` warns on every call that `dg launch` supersedes it (dg is not a
# dependency here); the warning says nothing about the run, so it stays out of the log.
export PYTHONWARNINGS="ignore:Function \`asset_materialize_command\` is superseded"
# transformers' per-file load/save bars; the trainers still log loss every few steps.
export HF_HUB_DISABLE_PROGRESS_BARS=1

partition="${ESWI_PARTITION:-$(TZ=Asia/Taipei date +%F)}"
data_assets="${ESWI_DATA_ASSETS:-raw_pages,cleaned_corpus,labeled_sentiment}"
model_assets="${ESWI_MODEL_ASSETS:-base_model,sft_model,reward_model,ppo_model,rating_table}"

uv run python -m eswi_assets.demo_site serve --dir .eswi/demo_site --port 8765 &
site_pid=$!
trap 'kill $site_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  (exec 3<>/dev/tcp/127.0.0.1/8765) 2>/dev/null && break
  kill -0 $site_pid 2>/dev/null || { echo "demo site failed to start" >&2; exit 1; }
  sleep 0.5
done

uv run dagster asset materialize -m eswi_assets.definitions --select "$data_assets" --partition "$partition"
kill $site_pid 2>/dev/null || true
# A model whose quality gate rejects it is kept out of LATEST (serving keeps the promoted one):
# the run then fails in Dagster, and run_summary says which gate and why. Any other failure,
# a crash or a data check, still fails this script.
if [ -n "$model_assets" ]; then
  before="$(uv run python -m eswi_assets.run_summary --latest)"
  uv run dagster asset materialize -m eswi_assets.definitions --select "$model_assets" || true
  uv run python -m eswi_assets.run_summary "$before"
fi
echo "done: open the UI with 'make ui' to see lineage and metadata (DAGSTER_HOME=$DAGSTER_HOME)"
