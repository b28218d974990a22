from __future__ import annotations

from fastapi import APIRouter

from eswi_assets.serving.dependencies import Service
from eswi_assets.serving.schemas import (
    BODY_ERRORS,
    ErrorResponse,
    GenerateRequest,
    GenerateResponse,
)

router = APIRouter(prefix="/v1", tags=["generate"])


@router.post(
    "/generate",
    responses={
        **BODY_ERRORS,
        422: {
            "description": "Outside the schema's limits, or prompt plus max_new_tokens longer "
            "than the model's context (a limit in tokens, so the schema cannot state it)."
        },
        429: {"model": ErrorResponse, "description": "Queue full; retry later."},
        503: {"model": ErrorResponse, "description": "The user's model is not loaded."},
    },
)
async def generate(request: GenerateRequest, service: Service) -> GenerateResponse:
    """Write a text for a title with the model of the user's A/B variant.

    Concurrent requests are batched; keep the `generation_id` to rate the text.
    """
    return await service.generate(request, channel="api")
