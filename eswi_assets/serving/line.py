"""The LINE bot: a text message gets a generated reply with rating buttons 1-5; pressing one
sends a postback whose data carries the generation id and the score, stored as channel "line".

Signatures are checked by line-bot-sdk's `WebhookParser` over the raw body before anything
else. The webhook answers 200 at once and events are handled afterwards (LINE retries slow
webhooks); redelivered events are recognised by `webhookEventId` and handled once. Replies go
through the SDK's `MessagingApi`, whose base URL is a setting so tests can record them.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode

from linebot.v3 import WebhookParser
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import Event, MessageEvent, PostbackEvent, TextMessageContent
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from eswi_assets.serving.batching import QueueFullError
from eswi_assets.serving.schemas import MAX_PROMPT_CHARS, GenerateRequest
from eswi_assets.serving.service import (
    NotReadyError,
    PromptTooLongError,
    ServingService,
    UnknownGenerationError,
)

logger = logging.getLogger(__name__)

LINE_TEXT_LIMIT = 5000
SCORES = range(1, 6)
BUSY = "目前使用的人太多或模型還在準備中，請稍後再試一次。"
TOO_LONG = "訊息太長了，請傳一個比較短的標題。"
EXPIRED = "這則回覆已經過期，無法評分。"
EMPTY = "（模型沒有寫出內容）"


def rating_data(generation_id: str, score: int) -> str:
    return urlencode({"action": "rate", "generation_id": generation_id, "score": score})


def parse_rating(data: str) -> tuple[str, int] | None:
    """(generation id, score) from a rating button's postback data; None for anything else."""
    fields = {key: values[0] for key, values in parse_qs(data).items()}
    score = fields.get("score", "")
    if fields.get("action") != "rate" or not fields.get("generation_id") or not score.isdigit():
        return None
    return (fields["generation_id"], int(score)) if int(score) in SCORES else None


def rating_buttons(generation_id: str) -> QuickReply:
    return QuickReply(
        items=[
            QuickReplyItem(
                action=PostbackAction(
                    label=f"{score} ★",
                    data=rating_data(generation_id, score),
                    display_text=f"評分：{score}",
                )
            )
            for score in SCORES
        ]
    )


def line_user_id(event: Event) -> str | None:
    """Namespaced, so a LINE user never shares an A/B bucket or hash with an API user id."""
    user_id = getattr(event.source, "user_id", None)
    return f"line:{user_id}" if user_id else None


class LineBot:
    def __init__(
        self,
        service: ServingService,
        channel_secret: str,
        access_token: str,
        api_base_url: str,
    ) -> None:
        self.service = service
        self.parser = WebhookParser(channel_secret)
        self._client = ApiClient(Configuration(access_token=access_token))
        self.api = MessagingApi(self._client)
        self.api.line_base_path = api_base_url.rstrip("/")

    def close(self) -> None:
        self._client.close()

    def parse(self, body: str, signature: str) -> list[Event]:
        """Raises `InvalidSignatureError` for a wrong signature, ValueError for a bad body."""
        try:
            return self.parser.parse(body, signature)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a LINE webhook body: {error}") from error

    async def first_deliveries(self, events: list[Event]) -> list[Event]:
        """Events whose webhookEventId was never seen before (ids are recorded now)."""
        fresh = []
        for event in events:
            event_id = getattr(event, "webhook_event_id", None)
            if event_id is None or await run_in_threadpool(
                self.service.records.first_delivery, event_id
            ):
                fresh.append(event)
        return fresh

    async def handle(self, events: list[Event]) -> None:
        for event in events:
            try:
                if isinstance(event, MessageEvent) and isinstance(
                    event.message, TextMessageContent
                ):
                    await self._answer(event)
                elif isinstance(event, PostbackEvent):
                    await self._rate(event)
            except Exception:
                logger.exception("LINE event %s failed", getattr(event, "webhook_event_id", "?"))

    async def _answer(self, event: MessageEvent) -> None:
        user_id = line_user_id(event)
        if user_id is None or not event.reply_token:
            return
        try:
            request = GenerateRequest(
                prompt=event.message.text[:MAX_PROMPT_CHARS],
                max_new_tokens=self.service.settings.line_max_new_tokens,
                user_id=user_id,
            )
            result = await self.service.generate(request, channel="line")
        except (NotReadyError, QueueFullError):
            await self._reply(event.reply_token, TextMessage(text=BUSY))
            return
        except (PromptTooLongError, ValidationError):
            await self._reply(event.reply_token, TextMessage(text=TOO_LONG))
            return
        await self._reply(
            event.reply_token,
            TextMessage(
                text=result.text.strip()[:LINE_TEXT_LIMIT] or EMPTY,
                quick_reply=rating_buttons(result.generation_id),
            ),
        )

    async def _rate(self, event: PostbackEvent) -> None:
        user_id = line_user_id(event)
        rating = parse_rating(event.postback.data)
        if user_id is None or rating is None:
            return
        generation_id, score = rating
        try:
            await self.service.rate(generation_id, user_id, score, None, channel="line")
        except UnknownGenerationError:
            text = EXPIRED
        else:
            text = f"謝謝您的評分（{score} 分）！"
        if event.reply_token:
            await self._reply(event.reply_token, TextMessage(text=text))

    async def _reply(self, reply_token: str, message: TextMessage) -> None:
        request = ReplyMessageRequest(reply_token=reply_token, messages=[message])
        try:
            await run_in_threadpool(self.api.reply_message, request)
        except ApiException as error:  # the status only: the body may echo the request
            logger.warning("LINE reply failed with HTTP %s", error.status)
