# One image for the Dagster code server, run/step workers and the serving app.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium chromium-driver fonts-noto-cjk tini \
 && rm -rf /var/lib/apt/lists/*

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

RUN useradd --create-home --uid 10001 eswi
WORKDIR /app
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    PATH=/app/.venv/bin:$PATH \
    ESWI_DATA_DIR=/data \
    HF_HUB_OFFLINE=1

COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project
COPY eswi_assets ./eswi_assets
COPY workspace.yaml ./
COPY deploy/elasticsearch ./deploy/elasticsearch
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev \
 && mkdir -p /data && chown eswi:eswi /data

USER eswi
EXPOSE 4000 8000
ENTRYPOINT ["tini", "--"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "eswi_assets.definitions"]
