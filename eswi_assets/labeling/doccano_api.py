"""A small REST client for doccano 1.8.4: token login, retries, pagination and the few routes the
pipeline uses (read from doccano 1.8.4's own `urls.py`; project routes have no trailing slash).

Why not doccano-client: it pins pydantic 1. What this client handles that a plain loop would not:

- doccano's login also opens a Django session; a client that kept the session cookie would be
  refused every POST for a missing CSRF token, so this one never stores cookies.
- An expired or deleted token comes back as 403 "Invalid token." (doccano lists session
  authentication first, so DRF answers 403, not 401): the client logs in again once and repeats.
- 5xx answers and connection errors are retried with exponential back-off. A POST is retried on a
  5xx (doccano's create views write their one row last, so a 5xx such as SQLite's "database is
  locked" stored nothing) or when it never reached the server, but not after a read timeout or a
  dropped connection, since it could have been stored; the caller's next push skips what arrived.
- List routes default to 5 items a page; `paginate` walks `limit`/`offset` with large pages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

# Errors after which the server cannot have acted on the request, so even a POST may be repeated.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_IDEMPOTENT = {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}


class DoccanoError(RuntimeError):
    """doccano could not be reached, refused a request or returned data the pipeline cannot use.

    The message names the URL and what to do about it.
    """


class _ServerError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} {response.reason_phrase}")
        self.response = response


def _no_cookies() -> CookieJar:
    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))


class DoccanoApi:
    """One logged-in connection to doccano; thread-safe, so pushes and pulls can run in parallel."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout_s: float = 30.0,
        attempts: int = 4,
        retry_wait_s: float = 0.5,
        page_size: int = 1000,
        max_connections: int = 16,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._username = username
        self._password = password
        self._attempts = attempts
        self._retry_wait_s = retry_wait_s
        self._page_size = page_size
        self._token: str | None = None
        self._login_lock = threading.Lock()
        self._client = httpx.Client(
            base_url=self.url,
            timeout=timeout_s,
            cookies=_no_cookies(),
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )

    def __enter__(self) -> DoccanoApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- transport ----------------------------------------------------------------------------

    def login(self, stale_token: str | None = None) -> str:
        """Log in (`POST /v1/auth/login/`) unless another thread already replaced `stale_token`."""
        with self._login_lock:
            if self._token is not None and self._token != stale_token:
                return self._token
            # Logging in again only returns the same token, so it is safe to repeat.
            response = self._retrying("POST", "/v1/auth/login/", self._post_login, idempotent=True)
            if response.status_code == 400:
                raise DoccanoError(
                    f"doccano at {self.url} refused the login of {self._username!r}: "
                    f"{response.text[:200]}. Check the username and ESWI_DOCCANO_PASSWORD."
                )
            self._check(response, "POST", "/v1/auth/login/")
            self._token = str(response.json()["key"])
            return self._token

    def _post_login(self) -> httpx.Response:
        return self._client.post(
            "/v1/auth/login/", json={"username": self._username, "password": self._password}
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request with the token; retry what is safe to retry (module docstring)."""

        def send() -> httpx.Response:
            token = self._token or self.login()
            response = self._client.request(
                method, path, json=json, params=params, headers={"Authorization": f"Token {token}"}
            )
            if _token_rejected(response):
                token = self.login(stale_token=token)
                response = self._client.request(
                    method,
                    path,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Token {token}"},
                )
            return response

        response = self._retrying(method, path, send, idempotent=method.upper() in _IDEMPOTENT)
        self._check(response, method, path)
        return response

    def _retrying(
        self,
        method: str,
        path: str,
        send: Callable[[], httpx.Response],
        *,
        idempotent: bool,
    ) -> httpx.Response:
        def transient(error: BaseException) -> bool:
            if isinstance(error, _ServerError):
                return True
            return isinstance(error, httpx.TransportError if idempotent else _NOT_SENT)

        def attempt() -> httpx.Response:
            response = send()
            if response.status_code >= 500:
                raise _ServerError(response)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=self._retry_wait_s, max=10),
            retry=retry_if_exception(transient),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _ServerError as error:
            raise DoccanoError(
                f"doccano at {self.url} answered {method} {path} with {error} "
                f"{self._attempts} times: {error.response.text[:200]!r}. "
                "See doccano.log in its data directory."
            ) from error
        except httpx.TransportError as error:
            raise DoccanoError(
                f"doccano at {self.url} did not answer {method} {path} "
                f"({type(error).__name__}: {error}) after {self._attempts} attempts. "
                "Is it running? Start it with scripts/doccano/start.sh DATA_DIR PORT, "
                "or point ESWI_DOCCANO_URL at a running one."
            ) from error

    def _check(self, response: httpx.Response, method: str, path: str) -> None:
        if response.status_code >= 400:
            raise DoccanoError(
                f"doccano at {self.url} refused {method} {path}: {response.status_code} "
                f"{response.text[:300]}"
            )

    # -- helpers ------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, json: Any) -> Any:
        return self.request("POST", path, json=json).json()

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict]:
        """Every item of a paginated list route, walking `limit`/`offset`."""
        offset = 0
        while True:
            page = self.get(path, {**(params or {}), "limit": self._page_size, "offset": offset})
            results = page["results"]
            yield from results
            offset += len(results)
            if not page.get("next") or not results:
                return

    # -- routes -------------------------------------------------------------------------------

    def find_project(self, name: str) -> dict | None:
        matches = self.paginate("/v1/projects", {"q": name})
        return next((p for p in matches if p["name"] == name), None)

    def create_project(self, fields: dict[str, Any]) -> dict:
        return self.post("/v1/projects", fields)

    def update_project(self, project_id: int, fields: dict[str, Any]) -> dict:
        return self.request("PATCH", f"/v1/projects/{project_id}", json=fields).json()

    def category_types(self, project_id: int) -> list[dict]:
        return self.get(f"/v1/projects/{project_id}/category-types")

    def create_category_type(self, project_id: int, text: str) -> dict:
        return self.post(f"/v1/projects/{project_id}/category-types", {"text": text})

    def examples(self, project_id: int, *, confirmed: bool | None = None) -> Iterator[dict]:
        params = {} if confirmed is None else {"confirmed": str(confirmed).lower()}
        return self.paginate(f"/v1/projects/{project_id}/examples", params)

    def create_example(self, project_id: int, text: str, meta: dict[str, Any]) -> dict:
        return self.post(f"/v1/projects/{project_id}/examples", {"text": text, "meta": meta})

    def categories(self, project_id: int, example_id: int) -> list[dict]:
        """Every annotator's categories on one example (only a collaborative project shows all)."""
        return self.get(f"/v1/projects/{project_id}/examples/{example_id}/categories")

    def users(self) -> list[dict]:
        return self.get("/v1/users")


def _token_rejected(response: httpx.Response) -> bool:
    """doccano answers an unknown or deleted token with 403 "Invalid token." (401 is kept for a
    doccano configured with token authentication first)."""
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("detail") == "Invalid token."
