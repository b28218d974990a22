"""The LINE bot: what each webhook event gets.

- a text (in a group: only one that addresses the bot) gets a generated answer with rating
  buttons 1-5, with LINE's loading animation meanwhile in one-on-one chats; a button press is a
  postback stored as a rating with channel "line";
- a text starting with 「比較」 gets two answers to the same title (the candidate's and the
  baseline's, in random order) and three buttons: first, second or both bad; the press is one
  comparison, the reward model's preference pair;
- following the bot gets a greeting that says what it does and how to rate; joining a group
  says how to address it there; stickers, images and other messages in a one-on-one chat get a
  hint; an empty title gets a hint too.

Events of a delivery are handled concurrently, at most `line_max_concurrent_events` at a time in
the whole process. A reply token lives about a minute from the event's timestamp: an answer
ready within `line_reply_within_seconds` of it is a reply (free); a later one (a backlog, a
redelivery, a slow queue) is a push message to the chat instead, which counts against the
channel's monthly quota. No "still writing" reply first: the loading animation already says so in
one-on-one chats, and a second message would only add noise to a late answer.
"""

from __future__ import annotations

import asyncio
import logging
import time

from linebot.v3 import WebhookParser
from linebot.v3.messaging import Message
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    JoinEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
)
from prometheus_client import Counter
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from eswi_assets.serving.batching import QueueFullError
from eswi_assets.serving.line import messages
from eswi_assets.serving.line.chat import Chat, chat_of, prompt_for_bot
from eswi_assets.serving.line.client import LineClient
from eswi_assets.serving.line.postback import Choose, Rate, parse_postback
from eswi_assets.serving.ratelimit import RateLimitedError
from eswi_assets.serving.schemas import MAX_PROMPT_CHARS, GenerateRequest
from eswi_assets.serving.service import (
    ComparisonUnavailableError,
    NotReadyError,
    PromptTooLongError,
    ServingService,
    UnknownGenerationError,
)

logger = logging.getLogger(__name__)


class LineBot:
    def __init__(self, service: ServingService, channel_secret: str, client: LineClient) -> None:
        self.service = service
        self.settings = service.settings
        self.parser = WebhookParser(channel_secret)
        self.client = client
        self._slots = asyncio.Semaphore(self.settings.line_max_concurrent_events)
        self.events = Counter(
            "eswi_line_events",
            "Webhook events by what the bot did with them.",
            ["outcome"],
            registry=service.metrics.registry,
        )

    def parse(self, body: str, signature: str) -> list[Event]:
        """Raises `InvalidSignatureError` for a wrong signature, ValueError for a bad body."""
        try:
            return self.parser.parse(body, signature)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a LINE webhook body: {error}") from error

    async def first_deliveries(self, events: list[Event]) -> list[Event]:
        """Events whose webhookEventId was never seen before (ids are recorded now)."""
        fresh = await run_in_threadpool(self._first_deliveries, events)
        if len(fresh) < len(events):
            self.events.labels(outcome="redelivery").inc(len(events) - len(fresh))
        return fresh

    def _first_deliveries(self, events: list[Event]) -> list[Event]:
        first = self.service.records.first_delivery
        ids = [getattr(event, "webhook_event_id", None) for event in events]
        return [e for e, i in zip(events, ids, strict=True) if i is None or first(i)]

    async def handle(self, events: list[Event]) -> None:
        await asyncio.gather(*(self._handle_one(event) for event in events))

    async def _handle_one(self, event: Event) -> None:
        async with self._slots:
            try:
                outcome = await self._dispatch(event)
            except Exception:
                logger.exception("LINE event %s failed", getattr(event, "webhook_event_id", "?"))
                outcome = "failed"
        self.events.labels(outcome=outcome).inc()

    async def _dispatch(self, event: Event) -> str:
        chat = chat_of(event)
        if chat is None:
            return "ignored"
        prefix = self.settings.line_group_prefix
        if isinstance(event, FollowEvent):
            await self._reply(event.reply_token, messages.greeting(prefix))
            return "follow"
        if isinstance(event, JoinEvent):
            await self._reply(event.reply_token, messages.group_greeting(prefix))
            return "join"
        if isinstance(event, PostbackEvent):
            return await self._postback(event, chat)
        if not isinstance(event, MessageEvent):
            return "ignored"
        if not isinstance(event.message, TextMessageContent):
            if not chat.one_on_one:  # a sticker in a group is not for the bot
                return "ignored"
            await self._reply(event.reply_token, messages.NOT_TEXT)
            return "not_text"
        prompt = prompt_for_bot(chat, event.message, prefix)
        if prompt is None:
            return "unaddressed"
        if not prompt:
            await self._reply(event.reply_token, messages.EMPTY_PROMPT)
            return "empty"
        if chat.user_id is None:
            return "ignored"
        compare = prompt.startswith(messages.COMPARE_WORD)
        if compare:
            prompt = prompt.removeprefix(messages.COMPARE_WORD).lstrip(" \u3000：:")
            if not prompt:
                await self._reply(event.reply_token, messages.EMPTY_PROMPT)
                return "empty"
        await self._answer(event, chat, prompt, compare)
        return "comparison" if compare else "text"

    async def _answer(self, event: MessageEvent, chat: Chat, prompt: str, compare: bool) -> None:
        loading = None
        if chat.one_on_one:
            seconds = self.settings.line_loading_seconds
            loading = asyncio.create_task(self.client.show_loading(chat.chat_id, seconds))
        answer = await self._write(prompt, chat.user_id, compare)
        if loading is not None:
            await loading  # the answer must not arrive before the animation it ends
        if time.time() < event.timestamp / 1000 + self.settings.line_reply_within_seconds:
            await self.client.reply(event.reply_token, answer)
        else:
            await self.client.push(chat.chat_id, answer)

    async def _write(self, prompt: str, user_id: str, compare: bool) -> list[Message]:
        try:
            request = GenerateRequest(
                prompt=prompt[:MAX_PROMPT_CHARS],
                max_new_tokens=self.settings.line_max_new_tokens,
                user_id=user_id,
            )
            if compare:
                pair = await self.service.compare(request, channel="line")
                return messages.comparison(pair.first.text, pair.second.text, pair.comparison_id)
            result = await self.service.generate(request, channel="line")
        except RateLimitedError:  # before QueueFullError, which it extends
            return [messages.text(messages.TOO_OFTEN)]
        except (NotReadyError, QueueFullError):
            return [messages.text(messages.BUSY)]
        except ComparisonUnavailableError:
            return [messages.text(messages.NO_COMPARISON)]
        except PromptTooLongError:
            return [messages.text(messages.TOO_LONG)]
        except ValidationError:
            return [messages.text(messages.UNREADABLE)]
        return [messages.answer(result.text, result.generation_id)]

    async def _postback(self, event: PostbackEvent, chat: Chat) -> str:
        action = parse_postback(event.postback.data)
        if chat.user_id is None or action is None:
            return "ignored"
        if isinstance(action, Rate):
            await self._reply(event.reply_token, await self._rate(action, chat.user_id))
            return "rating"
        await self._reply(event.reply_token, await self._choose(action, chat.user_id))
        return "choice"

    async def _rate(self, rate: Rate, user_id: str) -> str:
        try:
            await self.service.rate(rate.generation_id, user_id, rate.score, None, channel="line")
        except UnknownGenerationError:  # expired, never issued, or written for someone else
            return messages.NOT_RATEABLE
        except RateLimitedError:
            return messages.TOO_OFTEN
        return messages.thanks(rate.score)

    async def _choose(self, choose: Choose, user_id: str) -> str:
        try:
            await self.service.choose(choose.comparison_id, user_id, choose.choice, channel="line")
        except UnknownGenerationError:
            return messages.NOT_RATEABLE
        except RateLimitedError:
            return messages.TOO_OFTEN
        return messages.CHOSEN[choose.choice]

    async def _reply(self, reply_token: str | None, text: str) -> None:
        if reply_token:
            await self.client.reply(reply_token, [messages.text(text)])
