from __future__ import annotations

from fastapi import APIRouter

from eswi_assets.serving.dependencies import Namespace, Service, acting_user
from eswi_assets.serving.schemas import (
    BODY_ERRORS,
    CALLER_ERRORS,
    OPTIONAL_CLIENT_KEY,
    RATE_LIMITED,
    CompareResponse,
    ErrorResponse,
    GenerateRequest,
    GenerateResponse,
)

router = APIRouter(prefix="/v1", tags=["generate"])

_TOO_LONG = {
    422: {
        "description": "Outside the schema's limits, or prompt plus max_new_tokens longer "
        "than the model's context (a limit in tokens, so the schema cannot state it)."
    }
}


@router.post(
    "/generate",
    openapi_extra=OPTIONAL_CLIENT_KEY,
    responses={
        **BODY_ERRORS,
        **CALLER_ERRORS,
        **_TOO_LONG,
        **RATE_LIMITED,
        503: {"model": ErrorResponse, "description": "The user's model is not loaded."},
    },
)
async def generate(
    request: GenerateRequest, service: Service, namespace: Namespace
) -> GenerateResponse:
    """Write a text for a title with the model of the user's A/B variant.

    Concurrent requests are batched; keep `generation_id` and `feedback_token` to rate the text.
    """
    user = request.model_copy(update={"user_id": acting_user(namespace, request.user_id)})
    return await service.generate(user, channel="api")


@router.post(
    "/compare",
    openapi_extra=OPTIONAL_CLIENT_KEY,
    responses={
        **BODY_ERRORS,
        **CALLER_ERRORS,
        **_TOO_LONG,
        **RATE_LIMITED,
        409: {"model": ErrorResponse, "description": "Only one variant is served."},
        503: {"model": ErrorResponse, "description": "A variant's model is not loaded."},
    },
)
async def compare(
    request: GenerateRequest, service: Service, namespace: Namespace
) -> CompareResponse:
    """Two answers to one title, by the candidate and the baseline model, in random order and
    without saying which is which; send the better one to /v1/comparisons/{id}/choice.

    Counts as two generations against the user's rate limit.
    """
    user = request.model_copy(update={"user_id": acting_user(namespace, request.user_id)})
    return await service.compare(user, channel="api")
