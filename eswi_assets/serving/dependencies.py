"""FastAPI dependencies: the service object of the running app, the admin API key, and who an
API caller may act for.

User ids are namespaced so that no caller can speak for another's users: an API client's key
(ESWI_SERVING_API_KEYS) maps to a namespace and its user ids become `<namespace>:<user_id>`;
the LINE webhook alone produces `line:<LINE user id>` (from the signed event); an anonymous
caller's ids must not contain ':' at all, so it can never name a namespaced user.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from eswi_assets.serving.service import ServingService

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Admin API key.")
_client_key = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ClientKey",
    auto_error=False,
    description="API client key (ESWI_SERVING_API_KEYS): user ids become <namespace>:<user_id>.",
)


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


def client_namespace(
    service: Service, key: Annotated[str | None, Security(_client_key)]
) -> str | None:
    """The caller's namespace; None for an anonymous caller, 401 for an unknown key."""
    if key is None:
        return None
    namespace = service.settings.namespace_for(key)
    if namespace is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown X-API-Key (client keys are set in ESWI_SERVING_API_KEYS)",
            headers={"WWW-Authenticate": "APIKey"},
        )
    return namespace


Namespace = Annotated[str | None, Depends(client_namespace)]


def acting_user(namespace: str | None, user_id: str) -> str:
    """The stored user id a caller means by `user_id`; 403 for a namespaced id without its key."""
    if namespace is not None:
        return f"{namespace}:{user_id}"
    if ":" in user_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "user ids with ':' are namespaced ('line:' is the LINE webhook's, '<namespace>:' an "
            "API client's): send the namespace's X-API-Key and the bare user id",
        )
    return user_id


def rating_credentials(
    namespace: str | None, user_id: str | None, token: str | None
) -> tuple[str | None, str | None]:
    """(user id, token) a rating is checked with: an API client names its user, anyone else
    shows the answer's feedback token."""
    if namespace is not None:
        if user_id is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "user_id is required with an X-API-Key: the user the answer was served to",
            )
        return acting_user(namespace, user_id), token
    if token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send the answer's feedback_token (from /v1/generate or /v1/compare), or an "
            "X-API-Key with the user_id it was served to",
        )
    return (None if user_id is None else acting_user(None, user_id)), token
