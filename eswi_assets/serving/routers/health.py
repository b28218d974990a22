from __future__ import annotations

from fastapi import APIRouter, Response, status

from eswi_assets.serving.dependencies import Service
from eswi_assets.serving.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up (it stays up while models are missing).

    Both checks are `async`: they read memory only, so they answer on the event loop and never
    queue for the thread pool that SQLite, the feedback store and hashing share.
    """
    return Health()


@router.get("/readyz", responses={503: {"model": Readiness, "description": "Not ready."}})
async def readyz(service: Service, response: Response) -> Readiness:
    """200 once every variant's model is loaded; 503 with the reasons until then."""
    current = service.registry.current
    if not current.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(ready=current.ready, problems=dict(current.problems))
