# One image for the Dagster code server, the run and step workers (k8s_job_executor pods, GPU
# training steps included) and the serving app:
#   code server (default): dagster code-server start -h 0.0.0.0 -p 4000 -m eswi_assets.definitions
#   serving:               python -m eswi_assets.serving   (ESWI_SERVING_HOST=0.0.0.0)
# Run and step pods get their command from Dagster. Build: docker build -t eswi-pipeline:<tag> .
FROM python:3.11-slim-bookworm

# Debian's chromium + chromedriver pair (same version, no Selenium Manager download at run time),
# CJK fonts so rendered Traditional-Chinese pages lay out as in a desktop browser, tini as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      chromium chromium-driver fonts-noto-cjk ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && chromium --version && chromedriver --version

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

# A fixed numeric uid, so `runAsNonRoot: true` pod security can verify it.
RUN groupadd --gid 10001 eswi && useradd --create-home --uid 10001 --gid 10001 eswi
WORKDIR /app
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    ESWI_DATA_DIR=/data \
    HF_HOME=/data/huggingface \
    HF_HUB_OFFLINE=1

# Dependencies first (cached while only the code changes), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project
COPY eswi_assets ./eswi_assets
COPY workspace.yaml ./
COPY deploy/elasticsearch ./deploy/elasticsearch
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev \
 && mkdir -p /data "$DAGSTER_HOME" \
 && python -c "import eswi_assets.definitions" \
 && chown -R 10001:10001 /data "$DAGSTER_HOME"

USER 10001:10001
EXPOSE 4000 8080
ENTRYPOINT ["tini", "--"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "eswi_assets.definitions"]
