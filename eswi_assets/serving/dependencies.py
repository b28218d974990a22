"""FastAPI dependencies: the service object of the running app, and the admin API key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from eswi_assets.serving.service import ServingService

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Admin API key.")


def get_service(request: Request) -> ServingService:
    return request.app.state.service


Service = Annotated[ServingService, Depends(get_service)]


def require_admin(service: Service, key: Annotated[str | None, Security(_api_key)]) -> None:
    """401 without the right key; 403 when no key is configured (the admin API is off)."""
    configured = service.settings.admin_api_key
    if configured is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "admin API disabled: set ESWI_SERVING_ADMIN_API_KEY"
        )
    if key is None or not secrets.compare_digest(
        key.encode(), configured.get_secret_value().encode()
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong X-API-Key",
            headers={"WWW-Authenticate": "APIKey"},
        )
