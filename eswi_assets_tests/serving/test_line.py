"""The LINE webhook, signed like LINE signs it, with the bot's calls recorded by a fake LINE API.

Events are handled concurrently, so a test finds the bot's calls by reply token or chat id, and
knows an event is finished (also one that gets no answer) once `eswi_line_events_total` counts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

import httpx
import pytest

from eswi_assets.serving.line.messages import CHOSEN, NOT_RATEABLE
from eswi_assets.serving.line.postback import (
    Choose,
    Rate,
    parse_postback,
    parse_score,
    rating_data,
)
from eswi_assets.training.feedback_pairs import feedback_pairs
from eswi_assets_tests.serving.conftest import LINE_SECRET, LINE_TOKEN
from eswi_assets_tests.serving.support import (
    LOADING,
    PUSH,
    REPLY,
    logged_errors,
    metric,
    sign,
)

USER = "U4af4980629aaaaaaaaaaaaaaaaaaaaaa"
FRIEND = "U0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
LATE = "U0ccccccccccccccccccccccccccccccc"
GROUP = "Ca56f94637cccccccccccccccccccccc"
SCORE_LABELS = ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]


def event(kind: str, source: dict | None = None, **fields) -> dict:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": source or {"type": "user", "userId": USER},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,
        **fields,
    }


def text_message(text: str, mention: dict | None = None, **fields) -> dict:
    message = {"type": "text", "id": uuid.uuid4().hex[:18], "quoteToken": "q", "text": text}
    if mention is not None:
        message["mention"] = mention
    return event("message", message=message, **fields)


def in_group(user: str = USER) -> dict:
    return {"type": "group", "groupId": GROUP, "userId": user}


def sticker(**fields) -> dict:
    content = {
        "type": "sticker",
        "id": "1",
        "quoteToken": "q",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
    }
    return event("message", message=content, **fields)


def image(**fields) -> dict:
    content = {"type": "image", "id": "2", "quoteToken": "q", "contentProvider": {"type": "line"}}
    return event("message", message=content, **fields)


def postback(data: str, **fields) -> dict:
    return event("postback", postback={"data": data}, **fields)


def body_of(*events: dict) -> bytes:
    return json.dumps({"destination": "Uxxxxxxxx", "events": list(events)}).encode()


def deliver(live, *events: dict, secret: str = LINE_SECRET) -> httpx.Response:
    body = body_of(*events)
    return httpx.post(
        f"{live.url}/line/webhook",
        content=body,
        headers={"content-type": "application/json", "x-line-signature": sign(secret, body)},
        timeout=60,
    )


def outcomes(live) -> dict[str, float]:
    text = httpx.get(f"{live.url}/metrics").text
    names = [
        *("text", "rating", "comparison", "choice", "follow", "join"),
        *("not_text", "empty", "unaddressed", "ignored"),
    ]
    return {name: metric(text, "eswi_line_events_total", outcome=name) for name in names} | {
        "redelivery": metric(text, "eswi_line_events_total", outcome="redelivery"),
        "failed": metric(text, "eswi_line_events_total", outcome="failed"),
    }


def wait_handled(live, before: dict[str, float], **expected: int) -> None:
    """Until the bot has finished the events it was sent (each counted by its outcome)."""
    deadline = time.monotonic() + 60
    while True:
        now = outcomes(live)
        if all(now[name] - before[name] >= n for name, n in expected.items()):
            assert now["failed"] == before["failed"], "an event handler raised"
            return
        assert time.monotonic() < deadline, f"handled so far: {now}"
        time.sleep(0.05)


def texts_sent(request) -> list[str]:
    return [message["text"] for message in request.body["messages"]]


def test_a_text_message_is_answered_with_rating_buttons_and_a_pressed_button_is_stored(live):
    message = text_message("週末去花蓮玩")
    assert deliver(live, message).status_code == 200

    reply = live.line.reply_to(message["replyToken"])
    assert reply.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    [sent] = reply.body["messages"]
    assert sent["type"] == "text" and sent["text"]
    items = sent["quickReply"]["items"]
    assert [item["action"]["label"] for item in items] == SCORE_LABELS
    assert [item["action"]["type"] for item in items] == ["postback"] * 5
    ratings = [parse_postback(item["action"]["data"]) for item in items]
    generation_id = ratings[0].generation_id
    assert ratings == [Rate(generation_id, score) for score in range(1, 6)]

    generation = live.app.state.service.records.unit(generation_id)
    assert generation.channel == "line"
    assert generation.prompt == "標題：週末去花蓮玩\n摘要：\n內文：\n"

    press = postback(items[3]["action"]["data"])
    assert deliver(live, press).status_code == 200
    assert texts_sent(live.line.reply_to(press["replyToken"])) == ["謝謝您的評分（4 分）！"]

    rows = live.feedback_store.read_all()
    row = rows[rows["generation_id"] == generation_id].iloc[0]
    assert (row["rating"], row["channel"]) == (4, "line")
    assert row["user_hash"] == live.feedback_store.hash_user(f"line:{USER}")
    assert row["model_version"] == generation.model_version


def test_a_one_on_one_chat_shows_the_loading_animation_before_the_answer(live):
    message = text_message("雨天的咖啡館", source={"type": "user", "userId": FRIEND})
    deliver(live, message)
    reply = live.line.reply_to(message["replyToken"])
    loading = live.line.wait_for(LOADING, chatId=FRIEND)
    assert loading.body == {"chatId": FRIEND, "loadingSeconds": 20}
    assert loading.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    assert live.line.requests.index(loading) < live.line.requests.index(reply)


def test_an_answer_after_the_reply_token_expired_is_pushed_to_the_chat(live):
    """The token of an event 55 s old has (nearly) expired: the answer goes by push."""
    source = {"type": "user", "userId": LATE}
    late = text_message("遲到的訊息", source=source, timestamp=int((time.time() - 55) * 1000))
    before = outcomes(live)
    deliver(live, late)
    wait_handled(live, before, text=1)

    assert live.line.to(REPLY, replyToken=late["replyToken"]) == []
    assert live.line.wait_for(LOADING, chatId=LATE).body == {"chatId": LATE, "loadingSeconds": 20}
    [push] = live.line.to(PUSH, to=LATE)
    [sent] = push.body["messages"]
    generation_id = parse_postback(sent["quickReply"]["items"][0]["action"]["data"]).generation_id
    generation = live.app.state.service.records.unit(generation_id)
    assert generation.prompt == "標題：遲到的訊息\n摘要：\n內文：\n"
    assert push.body == {
        "to": LATE,
        "messages": [
            {
                "type": "text",
                "text": generation.response.strip() or "（模型沒有寫出內容）",
                "quickReply": {
                    "items": [
                        {
                            "type": "action",
                            "action": {
                                "type": "postback",
                                "label": f"{score} ★",
                                "data": f"action=rate&generation_id={generation_id}&score={score}",
                                "displayText": f"評分：{score}",
                            },
                        }
                        for score in range(1, 6)
                    ]
                },
            }
        ],
        "notificationDisabled": False,
    }


def test_following_gets_a_greeting_that_says_how_to_rate_and_how_to_ask_in_a_group(live):
    follow = event("follow", follow={"isUnblocked": False})
    deliver(live, follow)
    [greeting] = texts_sent(live.line.reply_to(follow["replyToken"]))
    assert "傳一個標題" in greeting and "1 到 5" in greeting and "/寫" in greeting


def test_joining_a_group_says_the_bot_answers_only_when_addressed(live):
    join = event("join", source={"type": "group", "groupId": GROUP})
    deliver(live, join)
    [greeting] = texts_sent(live.line.reply_to(join["replyToken"]))
    assert "標註我" in greeting and "「/寫」開頭" in greeting


def test_stickers_and_images_get_a_hint_in_one_on_one_chats_and_nothing_in_groups(live):
    alone = [sticker(), image()]
    grouped = [sticker(source=in_group()), image(source=in_group())]
    before = outcomes(live)
    deliver(live, *alone, *grouped)
    wait_handled(live, before, not_text=2, ignored=2)
    for hinted in alone:
        [hint] = texts_sent(live.line.reply_to(hinted["replyToken"]))
        assert "只看得懂文字" in hint
    for quiet in grouped:
        assert live.line.to(REPLY, replyToken=quiet["replyToken"]) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\u3000"])
def test_an_empty_or_blank_title_gets_a_hint_not_too_long(live, text):
    blank = text_message(text)
    deliver(live, blank)
    assert texts_sent(live.line.reply_to(blank["replyToken"])) == [
        "請告訴我要寫什麼：傳一個標題給我，例如「社區長照據點開幕」。"
    ]


def test_in_a_group_only_messages_that_address_the_bot_are_answered(live):
    bot_mention = {"mentionees": [{"index": 0, "length": 4, "type": "user", "isSelf": True}]}
    friend_mention = {
        "mentionees": [{"index": 0, "length": 7, "type": "user", "userId": FRIEND, "isSelf": False}]
    }
    chatter = text_message("今天天氣真好", source=in_group())
    about_a_friend = text_message("@friend 幫我寫", friend_mention, source=in_group())
    mentioned = text_message("@機器人 夜市小吃", bot_mention, source=in_group())
    prefixed = text_message("/寫 山上的露營", source=in_group(FRIEND))
    only_prefix = text_message("/寫", source=in_group())
    before = outcomes(live)
    deliver(live, chatter, about_a_friend, mentioned, prefixed, only_prefix)
    wait_handled(live, before, unaddressed=2, text=2, empty=1)

    for quiet in (chatter, about_a_friend):
        assert live.line.to(REPLY, replyToken=quiet["replyToken"]) == []
    prompts = {}
    for answered in (mentioned, prefixed):
        [sent] = live.line.reply_to(answered["replyToken"]).body["messages"]
        rate = parse_postback(sent["quickReply"]["items"][0]["action"]["data"])
        prompts[answered["replyToken"]] = live.app.state.service.records.unit(
            rate.generation_id
        ).prompt
    assert prompts[mentioned["replyToken"]] == "標題：夜市小吃\n摘要：\n內文：\n"
    assert prompts[prefixed["replyToken"]] == "標題：山上的露營\n摘要：\n內文：\n"
    assert "請告訴我要寫什麼" in texts_sent(live.line.reply_to(only_prefix["replyToken"]))[0]
    assert live.line.to(LOADING, chatId=GROUP) == []  # LINE shows it in one-on-one chats only


def test_a_rating_button_pressed_by_someone_else_or_for_an_expired_text_is_not_stored(live):
    stored = len(live.feedback_store.read_all())
    press = postback(rating_data("long-gone", 5))
    deliver(live, press)
    assert texts_sent(live.line.reply_to(press["replyToken"])) == [
        "這則回覆已經過期，或不是寫給您的，所以無法評分。"
    ]
    assert len(live.feedback_store.read_all()) == stored


def test_postbacks_we_never_sent_get_no_answer(live):
    forged = [postback("action=rate&generation_id=g&score=05"), postback("action=other")]
    before = outcomes(live)
    deliver(live, *forged)
    wait_handled(live, before, ignored=2)
    for press in forged:
        assert live.line.to(REPLY, replyToken=press["replyToken"]) == []


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("1", 1),
        ("5", 5),
        ("0", None),
        ("6", None),
        ("05", None),
        ("４", None),  # fullwidth: str.isdigit() and int() accept it
        ("٣", None),  # Arabic-Indic three: so do they
        (" 3", None),
        ("3 ", None),
        ("+3", None),
        ("3.0", None),
        ("", None),
    ],
)
def test_a_score_is_exactly_one_ascii_digit_from_1_to_5(text, score):
    assert parse_score(text) == score
    data = f"action=rate&generation_id=g-1&score={text}"
    assert parse_postback(data) == (Rate("g-1", score) if score else None)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "action=rate&generation_id=&score=3",
        "action=rate&score=3",
        "action=rate&generation_id=g&generation_id=h&score=3",
        "action=rate&generation_id=g&score=3&extra=1",
        "action=other&generation_id=g&score=3",
        "not a query string",
    ],
)
def test_postback_data_that_is_not_a_rating_button_is_refused(data):
    assert parse_postback(rating_data("g-1", 3)) == Rate("g-1", 3)
    assert parse_postback(data) is None


def test_a_wrong_signature_is_400_and_changes_nothing(live):
    stored = len(live.feedback_store.read_all())
    message = text_message("偽造的訊息")
    assert deliver(live, message, secret="not-the-secret").status_code == 400
    unsigned = httpx.post(f"{live.url}/line/webhook", json={"events": [message]})
    assert unsigned.status_code == 400

    # The same event, now correctly signed, is handled: the bad delivery left no trace.
    assert deliver(live, message).status_code == 200
    live.line.reply_to(message["replyToken"])
    assert len(live.feedback_store.read_all()) == stored


def test_a_redelivered_event_is_handled_once(live):
    message = text_message("重送測試")
    redelivery = message | {"deliveryContext": {"isRedelivery": True}}
    before = outcomes(live)
    assert deliver(live, message).status_code == 200
    live.line.reply_to(message["replyToken"])
    assert deliver(live, redelivery).status_code == 200
    wait_handled(live, before, text=1, redelivery=1)
    assert len(live.line.to(REPLY, replyToken=message["replyToken"])) == 1


def test_the_console_verify_delivery_and_unknown_events_are_accepted_without_a_reply(live):
    assert deliver(live).status_code == 200  # the console's "Verify" sends no events
    unknown = event("somethingNew")
    before = outcomes(live)
    assert deliver(live, unknown).status_code == 200
    wait_handled(live, before, ignored=1)
    assert live.line.to(REPLY, replyToken=unknown["replyToken"]) == []


def test_signed_bodies_that_are_not_webhook_payloads_are_400(live):
    for body in [b"not json", b"[]", b'{"events": [5]}', b'{"events": null}']:
        response = httpx.post(
            f"{live.url}/line/webhook",
            content=body,
            headers={"x-line-signature": sign(LINE_SECRET, body)},
        )
        assert response.status_code == 400, body


def test_a_20_kb_delivery_of_six_long_messages_is_accepted_and_handled_concurrently(live):
    """Over the API's 16 KB limit, as real deliveries can be; in the old code the 413 made LINE
    drop them, and the events that got through were handled one after another."""
    users = [f"U{i:032x}" for i in range(6)]
    long = [text_message("長" * 1000, source={"type": "user", "userId": user}) for user in users]
    assert len(body_of(*long)) > 20_000
    with live.line.holding():
        assert deliver(live, *long).status_code == 200
        # Every event's loading call is open at once: the six are handled side by side.
        live.line.wait_until(lambda: all(live.line.to(LOADING, chatId=user) for user in users))
    for message in long:
        assert len(texts_sent(live.line.reply_to(message["replyToken"]))) == 1


def test_health_metrics_and_the_api_answer_while_line_holds_every_call_open(live):
    """With LINE answering nothing (as when it takes 30 s a reply) and 45 deliveries in flight,
    the old code had every thread of the pool blocked in a LINE call and /healthz waited too."""
    users = [f"Uslow{i:028x}" for i in range(45)]
    messages = [
        text_message(f"第{i}篇", source={"type": "user", "userId": u}) for i, u in enumerate(users)
    ]

    async def deliver_all() -> list[int]:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:

            async def one(message: dict) -> int:
                body = body_of(message)
                headers = {"x-line-signature": sign(LINE_SECRET, body)}
                return (
                    await client.post("/line/webhook", content=body, headers=headers)
                ).status_code

            return await asyncio.gather(*(one(m) for m in messages))

    answered_before = live.line.answered
    with live.line.holding():
        assert asyncio.run(deliver_all()) == [200] * 45
        live.line.wait_until(lambda: all(live.line.to(LOADING, chatId=u) for u in users))
        with httpx.Client(base_url=live.url, timeout=30) as client:
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200
            assert client.get("/metrics").status_code == 200
            body = {"prompt": "同時", "user_id": "api-user", "max_new_tokens": 8}
            assert client.post("/v1/generate", json=body).status_code == 200
        assert live.line.answered == answered_before, "LINE answered before the checks ended"
    for message in messages:
        live.line.reply_to(message["replyToken"])


@pytest.mark.parametrize("status", [429, 500])
def test_a_line_error_on_reply_is_logged_with_its_status_and_not_retried(live, status):
    message = text_message(f"錯誤 {status}")
    before = outcomes(live)
    text_before = httpx.get(f"{live.url}/metrics").text
    with logged_errors(logging.WARNING) as logged, live.line.failing(status):
        deliver(live, message)
        wait_handled(live, before, text=1)
    assert len(live.line.to(REPLY, replyToken=message["replyToken"])) == 1
    text_after = httpx.get(f"{live.url}/metrics").text
    calls = {
        (call, outcome): metric(text_after, "eswi_line_api_calls_total", call=call, outcome=outcome)
        - metric(text_before, "eswi_line_api_calls_total", call=call, outcome=outcome)
        for call in ("reply", "push")
        for outcome in (str(status), "ok")
    }
    assert calls == {
        ("reply", str(status)): 1,
        ("reply", "ok"): 0,
        ("push", str(status)): 0,
        ("push", "ok"): 0,
    }
    assert f"LINE reply failed with HTTP {status}" in [r.getMessage() for r in logged]
    assert [r for r in logged if r.levelno >= logging.ERROR] == []


def test_a_webhook_body_over_the_lines_limit_is_413(live):
    body = body_of(text_message("x" * 5000)) + b" " * (1_048_576)
    response = httpx.post(
        f"{live.url}/line/webhook",
        content=body,
        headers={"x-line-signature": sign(LINE_SECRET, body)},
    )
    assert response.status_code == 413


def test_a_comparison_in_line_becomes_one_stored_choice_of_the_user_who_was_shown_it(live):
    message = text_message("比較 社區長照據點開幕")
    assert deliver(live, message).status_code == 200

    first, second = live.line.reply_to(message["replyToken"]).body["messages"]
    assert first["text"].startswith("【第一篇】\n") and "quickReply" not in first
    assert second["text"].startswith("【第二篇】\n")
    items = second["quickReply"]["items"]
    assert [item["action"]["label"] for item in items] == ["第一篇較好", "第二篇較好", "兩篇都不好"]
    choices = [parse_postback(item["action"]["data"]) for item in items]
    comparison_id = choices[0].comparison_id
    assert choices == [Choose(comparison_id, c) for c in ("first", "second", "both_bad")]

    stranger = postback(items[0]["action"]["data"], source={"type": "user", "userId": FRIEND})
    assert deliver(live, stranger).status_code == 200
    assert texts_sent(live.line.reply_to(stranger["replyToken"])) == [NOT_RATEABLE]

    press = postback(items[1]["action"]["data"])
    assert deliver(live, press).status_code == 200
    assert texts_sent(live.line.reply_to(press["replyToken"])) == [CHOSEN["second"]]

    rows = live.feedback_store.read_all()
    [row] = rows[rows["feedback_id"] == comparison_id].itertuples()
    assert (row.kind, row.choice, row.channel) == ("comparison", "second", "line")
    assert row.user_hash == live.feedback_store.hash_user(f"line:{USER}")
    assert row.prompt == "標題：社區長照據點開幕\n摘要：\n內文：\n"
    assert {row.response.strip(), row.other_response.strip()} <= {
        first["text"].removeprefix("【第一篇】\n").strip(),
        second["text"].removeprefix("【第二篇】\n").strip(),
    }
    assert {row.model_version, row.other_model_version} == {
        m.model_version for m in live.app.state.service.registry.current.models.values()
    }
    [pair] = feedback_pairs(rows[rows["feedback_id"] == comparison_id], seed=0).itertuples()
    assert (pair.prompt, pair.chosen, pair.rejected) == (
        row.prompt,
        row.other_response,
        row.response,
    )
    assert pair.source == "comparison"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("action=choose&comparison_id=c1&choice=first", Choose("c1", "first")),
        ("action=choose&comparison_id=c1&choice=both_bad", Choose("c1", "both_bad")),
        ("action=choose&comparison_id=c1&choice=third", None),
        ("action=choose&comparison_id=&choice=first", None),
        ("action=choose&comparison_id=c1&choice=first&score=5", None),
    ],
)
def test_comparison_button_data_is_parsed_strictly(data, expected):
    assert parse_postback(data) == expected
