"""Plain-HTTP fetching: status, type, size and encoding of a page, with polite retries.

Every page goes through here first, even the ones rendered in Chromium afterwards, because
only HTTP tells us the status code, the content type and the size before we commit a browser.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

import httpx
import tenacity

from eswi_assets.crawl.decoding import decode_html

Decoder = Callable[[bytes, str | None], str]
Outcome = Literal["ok", "failed", "skipped"]
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class FetchResult:
    """What one URL gave after all attempts; `final_url` is where redirects ended.

    `retryable` marks a failure that may pass later (5xx, 429, timeouts, dropped connections),
    so the crawl can give the URL a second chance at its end.
    """

    url: str
    final_url: str
    outcome: Outcome
    http_status: int | None
    text: str
    error: str | None
    attempts: int
    retryable: bool = False


@dataclass(frozen=True)
class _Answer:
    status: int
    final_url: str
    outcome: Outcome
    text: str = ""
    error: str | None = None


class RetryableStatus(Exception):
    """429 or 5xx: the server may answer differently later."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def is_html(content_type: str | None) -> bool:
    """A missing Content-Type counts as HTML (browsers sniff it); a declared one is trusted."""
    if not content_type:
        return True
    return content_type.split(";")[0].strip().lower() in HTML_TYPES


def _describe(exc: BaseException) -> str:
    detail = str(exc).strip()
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class HttpFetcher:
    """An `httpx.Client` with streaming size limits, charset handling and tenacity retries.

    Retries cover what may pass (timeouts, dropped connections, 429, 5xx) with exponential
    backoff plus jitter, or the server's Retry-After (capped); a 404 is final at once.
    """

    def __init__(
        self,
        user_agent: str = "eswi-crawler/0.1",
        *,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 8.0,
        retry_after_cap_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.user_agent = user_agent
        self.client = httpx.Client(
            headers={"User-Agent": user_agent},
            follow_redirects=True,
            transport=transport,
        )
        self._backoff = tenacity.wait_exponential_jitter(
            initial=backoff_initial_s, max=backoff_max_s, jitter=backoff_initial_s
        )
        self._retry_after_cap_s = retry_after_cap_s
        self._sleep = sleep

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def fetch(
        self,
        url: str,
        *,
        timeout_s: float = 15.0,
        max_retries: int = 3,
        max_bytes: int = 5_000_000,
        html_only: bool = True,
        truncate: bool = False,
        decode: Decoder = decode_html,
        pace: Callable[[str], object] | None = None,
    ) -> FetchResult:
        """Fetch one URL; never raises for network or HTTP trouble, it reports it instead.

        `pace(url)` runs before every attempt, so retries are as polite as first tries. A body
        over `max_bytes` is skipped, or with `truncate` cut to its first `max_bytes` bytes.
        """
        attempts = 0

        def attempt() -> _Answer:
            nonlocal attempts
            attempts += 1
            if pace is not None:
                pace(url)
            return self._attempt(url, timeout_s, max_bytes, html_only, truncate, decode)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max_retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type((RetryableStatus, *TRANSIENT_ERRORS)),
            reraise=True,
            sleep=self._sleep,
        )
        try:
            answer = retrying(attempt)
        except RetryableStatus as exc:
            return FetchResult(
                url,
                url,
                "failed",
                exc.status,
                "",
                f"HTTP {exc.status} after {attempts} attempts",
                attempts,
                retryable=True,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{_describe(exc)} (after {attempts} attempts)"
            retryable = isinstance(exc, TRANSIENT_ERRORS)
            return FetchResult(url, url, "failed", None, "", error, attempts, retryable)
        return FetchResult(
            url,
            answer.final_url,
            answer.outcome,
            answer.status,
            answer.text,
            answer.error,
            attempts,
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self._retry_after_cap_s)
        return self._backoff(state)

    def _attempt(
        self,
        url: str,
        timeout_s: float,
        max_bytes: int,
        html_only: bool,
        truncate: bool,
        decode: Decoder,
    ) -> _Answer:
        with self.client.stream("GET", url, timeout=timeout_s) as response:
            status, final_url = response.status_code, str(response.url)
            if status == 429 or status >= 500:
                raise RetryableStatus(
                    status, parse_retry_after(response.headers.get("Retry-After"))
                )
            if not response.is_success:
                return _Answer(status, final_url, "failed", error=f"HTTP {status}")
            content_type = response.headers.get("Content-Type")
            if html_only and not is_html(content_type):
                mime = (content_type or "").split(";")[0].strip()
                return _Answer(status, final_url, "skipped", error=f"not HTML: {mime}")
            declared = response.headers.get("Content-Length", "")
            if not truncate and declared.isdigit() and int(declared) > max_bytes:
                error = f"too large: Content-Length {declared} > max_bytes {max_bytes}"
                return _Answer(status, final_url, "skipped", error=error)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes and truncate:
                    return _Answer(
                        status, final_url, "ok", decode(bytes(body[:max_bytes]), content_type)
                    )
                if len(body) > max_bytes:
                    error = f"too large: more than max_bytes {max_bytes} bytes"
                    return _Answer(status, final_url, "skipped", error=error)
            return _Answer(status, final_url, "ok", decode(bytes(body), content_type))
