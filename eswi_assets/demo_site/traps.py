"""Trap routes: the failure modes a crawler must survive, served under /trap/.

They are not linked from the site; a crawl config lists /trap/index.html (or single traps) as a
start URL when a test wants them.
"""

from __future__ import annotations

import base64
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from eswi_assets.demo_site.templating import render

HTML = "text/html; charset=utf-8"
MAX_SLEEP_S = 120.0
HUGE_BYTES = 21 * 1024 * 1024
RETRY_AFTER_STATUSES = (429,)

BIG5_TEXT = "這是一個以大五碼編碼的網頁，內容是繁體中文，用來確認爬蟲會依照標頭判斷字元編碼。"
FLAKY_PARAGRAPHS = (
    "這本書的內容紮實，作者把複雜的觀念講得很清楚，讀起來一點都不吃力。",
    "第一次送來的時候伺服器出了點問題，重新整理幾次之後就順利看到了。",
    "整體來說非常值得推薦給剛入門的朋友，價格也算合理。",
)
_PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
_BROKEN = (
    "<html><head><title>破損的網頁<body><div class=main <p>這是一個標籤沒有關好的網頁，"
    "<b>粗體沒有結束<p>但裡面仍然有一些中文內容，讀者應該還是看得到。<table><tr><td>表格裡的文字"
    "</span></div></div>&nbsp&amp;&&<<>>\x0b<p>最後一段：爬蟲不應該因此當掉。<div <a href=>"
    "<script>var x = '<p>不是內文</p>'"
)


@dataclass(frozen=True)
class Reply:
    """A trap's answer; `chunks` is iterated lazily so large bodies stream."""

    status: int
    content_type: str
    chunks: Iterable[bytes]
    length: int
    headers: tuple[tuple[str, str], ...] = field(default=())


def _bytes(status: int, content_type: str, body: bytes, **headers: str) -> Reply:
    return Reply(status, content_type, (body,), len(body), tuple(headers.items()))


def _html(title: str, paragraphs: Iterable[str], status: int = 200, **headers: str) -> Reply:
    page = render("private.html", title=title, summary="", paragraphs=list(paragraphs))
    return _bytes(status, HTML, page.encode("utf-8"), **headers)


def _index() -> Reply:
    links = [
        "/trap/slow.html?seconds=5",
        *(f"/trap/status/{code}.html" for code in (500, 503, 429, 404)),
        "/trap/flaky/demo.html?fail=2",
        "/trap/big5.html",
        "/trap/binary.bin",
        "/trap/image.png",
        "/trap/huge.html",
        "/trap/broken.html",
    ]
    page = render(
        "listing.html",
        title="陷阱頁面",
        summary="",
        pages=[{"path": link, "title": link, "summary": ""} for link in links],
        previous=None,
        next=None,
    )
    return _bytes(200, HTML, page.encode("utf-8"))


def _number(query: dict[str, list[str]], name: str, default: float) -> float:
    """A query parameter as a number; a malformed one falls back to the default."""
    try:
        return float(query[name][0])
    except (KeyError, ValueError):
        return default


def _slow(query: dict[str, list[str]]) -> Reply:
    seconds = min(max(_number(query, "seconds", 5.0), 0.0), MAX_SLEEP_S)
    time.sleep(seconds)
    return _html("很慢的網頁", [f"這個網頁等了 {seconds:g} 秒才回應。"])


def status_reply(code: int) -> Reply:
    """An error page with that status; 429 carries `Retry-After: 0`."""
    headers = {"Retry-After": "0"} if code in RETRY_AFTER_STATUSES else {}
    return _html(f"錯誤 {code}", [f"伺服器固定回應狀態碼 {code}。"], status=code, **headers)


def _flaky_fails(n: int, query: dict[str, list[str]]) -> bool:
    """Request n fails if it is among the first `fail` (default 2), listed in `fail_on`
    (comma-separated: `fail_on=2` lets a crawler's HTTP check pass and fails the browser's
    load), or comes after the first `fail_after` requests."""
    if n <= _number(query, "fail", 0 if ("fail_on" in query or "fail_after" in query) else 2):
        return True
    fail_on = {part.strip() for part in query.get("fail_on", [""])[0].split(",")}
    return str(n) in fail_on or n > _number(query, "fail_after", float("inf"))


def _flaky(key: str, query: dict[str, list[str]], attempt: Callable[[str], int]) -> Reply:
    if _flaky_fails(attempt(key), query):
        return status_reply(int(_number(query, "status", 500)))
    page = render(
        "article.html",
        title="終於載入的文章",
        summary="伺服器先失敗幾次，之後才正常回應的文章。",
        paragraphs=list(FLAKY_PARAGRAPHS),
        render="static",
        delay_ms=0,
        related=[],
        listing="/trap/index.html",
    )
    return _bytes(200, HTML, page.encode("utf-8"))


def _big5() -> Reply:
    page = (
        '<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="big5">'
        f"<title>大五碼網頁</title></head><body><h1>大五碼網頁</h1><article><p>{BIG5_TEXT}</p></article></body></html>"
    )
    return _bytes(200, "text/html; charset=big5", page.encode("big5"))


def _huge() -> Reply:
    head = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>超大網頁</title></head><body>'
    chunk = ("<p>" + "這是一個超過二十MB的網頁，爬蟲應該略過它。" * 200 + "</p>\n").encode()
    head_b, tail_b = head.encode(), b"</body></html>"
    n = -(-(HUGE_BYTES - len(head_b) - len(tail_b)) // len(chunk))

    def chunks() -> Iterable[bytes]:
        yield head_b
        for _ in range(n):
            yield chunk
        yield tail_b

    return Reply(200, HTML, chunks(), len(head_b) + n * len(chunk) + len(tail_b))


_ROUTES: list[tuple[re.Pattern[str], Callable[..., Reply]]] = [
    (re.compile(r"/trap/(index\.html)?"), lambda m, q, a: _index()),
    (re.compile(r"/trap/slow\.html"), lambda m, q, a: _slow(q)),
    (re.compile(r"/trap/status/(\d{3})\.html"), lambda m, q, a: status_reply(int(m[1]))),
    (re.compile(r"/trap/flaky/([\w-]+)\.html"), lambda m, q, a: _flaky(m[1], q, a)),
    (re.compile(r"/trap/big5\.html"), lambda m, q, a: _big5()),
    (
        re.compile(r"/trap/binary\.bin"),
        lambda m, q, a: _bytes(200, "application/octet-stream", random.Random(0).randbytes(4096)),
    ),
    (re.compile(r"/trap/image\.png"), lambda m, q, a: _bytes(200, "image/png", _PNG_1X1)),
    (re.compile(r"/trap/huge\.html"), lambda m, q, a: _huge()),
    (re.compile(r"/trap/broken\.html"), lambda m, q, a: _bytes(200, HTML, _BROKEN.encode())),
]


def trap_reply(path: str, query: str, attempt: Callable[[str], int]) -> Reply | None:
    """The reply for a /trap/ path, or None if no trap has that path.

    `attempt(key)` counts requests per flaky key (1 on the first) and lives in the server,
    so each server starts with fresh flaky counters.
    """
    parsed = parse_qs(query)
    for pattern, handler in _ROUTES:
        if match := pattern.fullmatch(path):
            return handler(match, parsed, attempt)
    return None
