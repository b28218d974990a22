"""The LINE webhook, signed like LINE signs it, with replies recorded by a fake LINE API."""

from __future__ import annotations

import json
import time
import uuid

import httpx

from eswi_assets.serving.line import parse_rating
from eswi_assets_tests.serving.conftest import LINE_SECRET, LINE_TOKEN
from eswi_assets_tests.serving.support import sign

USER = "U4af4980629aaaaaaaaaaaaaaaaaaaaaa"


def event(kind: str, **fields) -> dict:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": USER},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }


def text_message(text: str) -> dict:
    return event(
        "message",
        replyToken=uuid.uuid4().hex,
        message={"type": "text", "id": "468789577898262530", "quoteToken": "q", "text": text},
    )


def postback(data: str) -> dict:
    return event("postback", replyToken=uuid.uuid4().hex, postback={"data": data})


def deliver(live, *events: dict, secret: str = LINE_SECRET) -> httpx.Response:
    body = json.dumps({"destination": "Uxxxxxxxx", "events": list(events)}).encode()
    return httpx.post(
        f"{live.url}/line/webhook",
        content=body,
        headers={"content-type": "application/json", "x-line-signature": sign(secret, body)},
    )


def test_a_text_message_is_answered_with_rating_buttons_and_a_pressed_button_is_stored(live):
    seen = len(live.line.requests)
    message = text_message("週末去花蓮玩")
    assert deliver(live, message).status_code == 200

    reply = live.line.wait_for(seen + 1)[seen]
    assert reply.path == "/v2/bot/message/reply"
    assert reply.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    assert reply.body["replyToken"] == message["replyToken"]
    [sent] = reply.body["messages"]
    assert sent["type"] == "text" and sent["text"]
    items = sent["quickReply"]["items"]
    assert [item["action"]["type"] for item in items] == ["postback"] * 5
    ratings = [parse_rating(item["action"]["data"]) for item in items]
    generation_id = ratings[0][0]
    assert ratings == [(generation_id, score) for score in range(1, 6)]

    generation = live.app.state.service.records.unit(generation_id)
    assert generation.channel == "line"
    assert generation.prompt == "標題：週末去花蓮玩\n摘要：\n內文：\n"

    press = postback(items[3]["action"]["data"])
    assert deliver(live, press).status_code == 200
    thanks = live.line.wait_for(seen + 2)[seen + 1]
    assert thanks.body["replyToken"] == press["replyToken"]

    rows = live.feedback_store.read_all()
    row = rows[rows["generation_id"] == generation_id].iloc[0]
    assert (row["rating"], row["channel"]) == (4, "line")
    assert row["user_hash"] == live.feedback_store.hash_user(f"line:{USER}")
    assert row["model_version"] == generation.model_version


def test_a_wrong_signature_is_400_and_changes_nothing(live):
    seen, stored = len(live.line.requests), len(live.feedback_store.read_all())
    message = text_message("偽造的訊息")
    assert deliver(live, message, secret="not-the-secret").status_code == 400
    unsigned = httpx.post(f"{live.url}/line/webhook", json={"events": [message]})
    assert unsigned.status_code == 400

    # The same event, now correctly signed, is handled: the bad delivery left no trace.
    assert deliver(live, message).status_code == 200
    assert live.line.wait_for(seen + 1)[seen].body["replyToken"] == message["replyToken"]
    assert len(live.feedback_store.read_all()) == stored


def test_a_redelivered_event_is_handled_once(live):
    seen = len(live.line.requests)
    message = text_message("重送測試")
    redelivery = message | {"deliveryContext": {"isRedelivery": True}}
    assert deliver(live, message).status_code == 200
    live.line.wait_for(seen + 1)
    # Events of one delivery are handled in order: a reply to the redelivery would come first.
    marker = text_message("之後的訊息")
    assert deliver(live, redelivery, marker).status_code == 200
    replies = live.line.wait_for(seen + 2)
    tokens = [r.body["replyToken"] for r in replies[seen:]]
    assert tokens == [message["replyToken"], marker["replyToken"]]


def test_empty_and_unhandled_events_are_accepted_without_a_reply(live):
    seen = len(live.line.requests)
    assert deliver(live).status_code == 200  # the console's "Verify" sends no events
    others = [
        event("follow", replyToken="follow-token", follow={"isUnblocked": False}),
        event(
            "message",
            replyToken="sticker-token",
            message={
                "type": "sticker",
                "id": "1",
                "quoteToken": "q",
                "packageId": "446",
                "stickerId": "1988",
                "stickerResourceType": "STATIC",
            },
        ),
        event("somethingNew", replyToken="unknown-token"),
        postback("action=rate&generation_id=unknown&score=9"),
    ]
    marker = text_message("最後一則")
    assert deliver(live, *others, marker).status_code == 200
    replies = live.line.wait_for(seen + 1)
    assert [r.body["replyToken"] for r in replies[seen:]] == [marker["replyToken"]]


def test_a_rating_for_an_expired_generation_is_answered_and_not_stored(live):
    seen, stored = len(live.line.requests), len(live.feedback_store.read_all())
    press = postback("action=rate&generation_id=long-gone&score=5")
    assert deliver(live, press).status_code == 200
    reply = live.line.wait_for(seen + 1)[seen]
    assert reply.body["replyToken"] == press["replyToken"]
    assert "過期" in reply.body["messages"][0]["text"]
    assert len(live.feedback_store.read_all()) == stored


def test_rating_data_round_trips_and_rejects_anything_else():
    from eswi_assets.serving.line import rating_data

    assert parse_rating(rating_data("g-1", 3)) == ("g-1", 3)
    for data in ["", "action=rate&generation_id=g&score=0", "action=other&generation_id=g&score=3"]:
        assert parse_rating(data) is None


def test_signed_bodies_that_are_not_webhook_payloads_are_400(live):
    for body in [b"not json", b"[]", b'{"events": [5]}', b'{"events": null}']:
        response = httpx.post(
            f"{live.url}/line/webhook",
            content=body,
            headers={"x-line-signature": sign(LINE_SECRET, body)},
        )
        assert response.status_code == 400, body
