from __future__ import annotations

from fastapi import APIRouter, Depends

from eswi_assets.serving.dependencies import Service, require_admin
from eswi_assets.serving.schemas import ErrorResponse, ModelsResponse

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models")
def models(service: Service) -> ModelsResponse:
    """The model version each variant serves, its share of users, and what is not loaded."""
    return service.models()


@router.post(
    "/admin/reload",
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong X-API-Key."},
        403: {"model": ErrorResponse, "description": "Admin API disabled."},
    },
)
async def reload(service: Service) -> ModelsResponse:
    """Load the versions LATEST points to now; requests in flight finish on the old ones."""
    return await service.reload()
