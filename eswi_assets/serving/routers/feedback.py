from __future__ import annotations

from fastapi import APIRouter

from eswi_assets.serving.dependencies import Service
from eswi_assets.serving.schemas import (
    BODY_ERRORS,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
)

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post(
    "/feedback",
    responses={
        **BODY_ERRORS,
        404: {"model": ErrorResponse, "description": "Unknown or expired generation_id."},
    },
)
async def feedback(request: FeedbackRequest, service: Service) -> FeedbackResponse:
    """Rate a generated text 1-5. One rating per generation and user: sending again replaces it."""
    return await service.rate(
        request.generation_id, request.user_id, request.rating, request.comment, channel="api"
    )
