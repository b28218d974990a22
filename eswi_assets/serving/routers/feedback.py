from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from eswi_assets.serving.dependencies import Namespace, Service, rating_credentials
from eswi_assets.serving.schemas import (
    BODY_ERRORS,
    CALLER_ERRORS,
    OPTIONAL_CLIENT_KEY,
    RATE_LIMITED,
    ChoiceRequest,
    ChoiceResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
)

router = APIRouter(prefix="/v1", tags=["feedback"])

_ERRORS = {
    **BODY_ERRORS,
    **CALLER_ERRORS,
    **RATE_LIMITED,
    401: {
        "model": ErrorResponse,
        "description": "Neither a feedback_token nor an X-API-Key, or an unknown key.",
    },
    404: {
        "model": ErrorResponse,
        "description": "Unknown, expired, or served to another user (the answer does not say "
        "which, so ids cannot be probed).",
    },
}


@router.post("/feedback", responses=_ERRORS, openapi_extra=OPTIONAL_CLIENT_KEY)
async def feedback(
    request: FeedbackRequest, service: Service, namespace: Namespace
) -> FeedbackResponse:
    """Rate a generated text 1-5, as the user it was served to: with its `feedback_token`, or
    with your X-API-Key and that `user_id`. Sending again replaces the rating."""
    user_id, token = rating_credentials(namespace, request.user_id, request.feedback_token)
    return await service.rate(
        request.generation_id, user_id, request.rating, request.comment, "api", token=token
    )


@router.post(
    "/comparisons/{comparison_id}/choice", responses=_ERRORS, openapi_extra=OPTIONAL_CLIENT_KEY
)
async def choice(
    comparison_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: ChoiceRequest,
    service: Service,
    namespace: Namespace,
) -> ChoiceResponse:
    """Say which answer of a comparison is better (`first`, `second`) or that both are bad, as
    the user it was shown to. Sending again replaces the choice."""
    user_id, token = rating_credentials(namespace, request.user_id, request.feedback_token)
    return await service.choose(comparison_id, user_id, request.choice, "api", token=token)
