"""The Messaging API calls the bot makes, on the SDK's aiohttp client: never in the thread pool
that health checks, metrics and the HTTP API share, each call under a deadline, and at most
`max_connections` of them open at once (aiohttp's connector queues the rest, inside the deadline).

A failed call is logged with its status only (LINE's error body may echo the request) and counted
in `eswi_line_api_calls{call,outcome}`; it is not retried. A reply token is single-use and a
timed-out call may have reached LINE, so a retry risks a double answer, and retrying 429s would
only deepen a rate limit. The caller gets False and moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

import aiohttp
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from prometheus_client import CollectorRegistry, Counter

logger = logging.getLogger(__name__)


class LineClient:
    def __init__(
        self,
        access_token: str,
        base_url: str,
        timeout_s: float,
        max_connections: int,
        registry: CollectorRegistry,
    ) -> None:
        """Build inside the running event loop: aiohttp binds its session to it."""
        configuration = Configuration(access_token=access_token)
        configuration.connection_pool_maxsize = max_connections
        self._client = AsyncApiClient(configuration)
        self._api = AsyncMessagingApi(self._client)
        self._api.line_base_path = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.calls = Counter(
            "eswi_line_api_calls",
            "Messaging API calls by outcome: ok, an HTTP status, timeout or error.",
            ["call", "outcome"],
            registry=registry,
        )

    async def close(self) -> None:
        await self._client.close()

    async def reply(self, reply_token: str, messages: list[Message]) -> bool:
        request = ReplyMessageRequest(reply_token=reply_token, messages=messages)
        return await self._call("reply", self._api.reply_message(request))

    async def push(self, to: str, messages: list[Message]) -> bool:
        request = PushMessageRequest(to=to, messages=messages)
        return await self._call("push", self._api.push_message(request))

    async def show_loading(self, chat_id: str, seconds: int) -> bool:
        request = ShowLoadingAnimationRequest(chat_id=chat_id, loading_seconds=seconds)
        return await self._call("loading", self._api.show_loading_animation(request))

    async def _call(self, call: str, request: Awaitable[object]) -> bool:
        try:
            async with asyncio.timeout(self.timeout_s):
                await request
        except ApiException as error:
            outcome = str(error.status)
            logger.warning("LINE %s failed with HTTP %s", call, error.status)
        except TimeoutError:
            outcome = "timeout"
            logger.warning("LINE %s got no answer within %.0f s", call, self.timeout_s)
        except aiohttp.ClientError as error:
            outcome = "error"
            logger.warning("LINE %s failed: %s", call, type(error).__name__)
        else:
            outcome = "ok"
        self.calls.labels(call=call, outcome=outcome).inc()
        return outcome == "ok"
