"""The FastAPI app: `create_app()` wires stores, models, batcher and routers for one process.

    uv run python -m eswi_assets.serving
    uv run uvicorn eswi_assets.serving.app:create_app --factory

Models load in the background after start-up, so `/healthz` answers at once and `/readyz` says
503 (with the reason) until every variant is loaded, or for as long as one cannot be.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import torch
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.concurrency import run_in_threadpool

from eswi_assets.serving.batching import Batcher, QueueFullError
from eswi_assets.serving.errors import validation_error
from eswi_assets.serving.limits import BodySizeLimit
from eswi_assets.serving.line import LineBot, LineClient
from eswi_assets.serving.metrics import ServingMetrics
from eswi_assets.serving.ratelimit import RateLimitedError
from eswi_assets.serving.registry import ModelRegistry, ModelSource
from eswi_assets.serving.routers import feedback, generate, health, line, models
from eswi_assets.serving.service import (
    ComparisonUnavailableError,
    NotReadyError,
    PromptTooLongError,
    ServingService,
    UnknownGenerationError,
)
from eswi_assets.serving.settings import ServingSettings
from eswi_assets.settings import Settings
from eswi_assets.stores import build as build_stores
from eswi_assets.stores.feedback import FeedbackStore
from eswi_assets.stores.models import ModelStore

logger = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600


def model_sources(serving: ServingSettings) -> list[ModelSource]:
    """Variants with a share of users; candidate_share=1 serves (and needs) no baseline."""
    sources = []
    if serving.candidate_share > 0:
        sources.append(ModelSource("candidate", serving.candidate_asset))
    if serving.candidate_share < 1:
        sources.append(ModelSource("baseline", serving.baseline_asset, serving.baseline_version))
    return sources


def profile_stores(settings: Settings) -> tuple[ModelStore, FeedbackStore]:
    """The stores Dagster uses in this profile (same classes, same places, same secrets)."""
    stores = build_stores(settings)
    return stores.models, stores.feedback


def _error(code: int, headers: dict[str, str] | None = None) -> Callable[..., Awaitable[Response]]:
    """A handler that answers `code` with the exception's message as `detail`."""

    async def handler(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=code, headers=headers)

    return handler


async def _rate_limited(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RateLimitedError)
    headers = {"Retry-After": str(error.retry_after)}
    return JSONResponse({"detail": str(error)}, status_code=429, headers=headers)


async def _prompt_too_long(request: Request, error: Exception) -> JSONResponse:
    """Shaped like FastAPI's own 422s, so clients parse one error format."""
    detail = [{"type": "prompt_too_long", "loc": ["body", "prompt"], "msg": str(error)}]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _watch(service: ServingService, poll_s: float) -> None:
    """Reload when LATEST moves; prune expired generations about once an hour."""
    since_prune = float("inf")
    while True:
        try:
            if since_prune >= PRUNE_EVERY_S:
                retention = timedelta(days=service.settings.generation_retention_days)
                await run_in_threadpool(service.records.prune, retention)
                since_prune = 0.0
            if poll_s > 0 and await run_in_threadpool(service.registry.is_stale):
                await service.reload()
        except Exception:
            logger.exception("model watch failed; retrying")
        interval = poll_s if poll_s > 0 else PRUNE_EVERY_S
        await asyncio.sleep(interval)
        since_prune += interval


def create_app(
    settings: Settings | None = None,
    serving: ServingSettings | None = None,
    stores: tuple[ModelStore, FeedbackStore] | None = None,
) -> FastAPI:
    settings = settings or Settings()
    serving = serving or ServingSettings()
    model_store, feedback_store = stores or profile_stores(settings)
    registry = CollectorRegistry()
    metrics = ServingMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if serving.torch_threads:
            torch.set_num_threads(serving.torch_threads)
        batcher = Batcher(
            serving.max_batch_size, serving.max_wait_ms / 1000, serving.max_queue, metrics
        )
        service = ServingService(
            settings=serving,
            registry=ModelRegistry(model_store, model_sources(serving), serving.device),
            batcher=batcher,
            records=feedback_store,
            metrics=metrics,
        )
        bot = None
        if serving.line_enabled:
            line_client = LineClient(
                serving.line_channel_access_token.get_secret_value(),
                serving.line_api_base_url,
                serving.line_timeout_seconds,
                serving.line_max_connections,
                registry,
            )
            bot = LineBot(service, serving.line_channel_secret.get_secret_value(), line_client)
        app.state.service, app.state.line_bot = service, bot
        batcher.start()
        tasks = [
            asyncio.create_task(service.reload(), name="eswi-load-models"),
            asyncio.create_task(_watch(service, serving.reload_poll_seconds), name="eswi-watch"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)
            await batcher.stop()
            if bot is not None:
                await bot.client.close()
            feedback_store.close()

    app = FastAPI(
        title="ESWI text service",
        summary="Generates Traditional-Chinese texts with the latest PPO model, A/B tested "
        "against a baseline, and collects 1-5 ratings and side-by-side choices from the users "
        "they were served to, for the next training run.",
        version="1.0",
        lifespan=lifespan,
        exception_handlers={
            NotReadyError: _error(status.HTTP_503_SERVICE_UNAVAILABLE),
            QueueFullError: _error(status.HTTP_429_TOO_MANY_REQUESTS, {"Retry-After": "1"}),
            RateLimitedError: _rate_limited,
            ComparisonUnavailableError: _error(status.HTTP_409_CONFLICT),
            UnknownGenerationError: _error(status.HTTP_404_NOT_FOUND),
            PromptTooLongError: _prompt_too_long,
            RequestValidationError: validation_error,
        },
    )
    for router in (generate.router, feedback.router, models.router, health.router, line.router):
        app.include_router(router)
    Instrumentator(registry=registry, excluded_handlers=["/metrics"]).instrument(app).expose(
        app, include_in_schema=False
    )
    app.add_middleware(
        BodySizeLimit,
        max_bytes=serving.max_body_bytes,
        paths={"/line/webhook": serving.line_max_body_bytes},
    )
    return app
