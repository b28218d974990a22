"""URL normalisation and link extraction: one spelling per page, so each page is crawled once."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute http(s) URL without fragment or default port, or None for anything else.

    `/a#top`, `/a` and `HTTP://Host:80/a` are one page; mailto:, javascript: and malformed
    hrefs are not pages at all.
    """
    url = url.strip()
    if base is not None:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    netloc = parts.hostname.lower()
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """Parse leniently; None when there is no document at all (empty or whitespace body)."""
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


def page_title(doc: lxml.html.HtmlElement | None) -> str:
    if doc is None:
        return ""
    return " ".join((doc.findtext(".//title") or "").split())


def page_links(doc: lxml.html.HtmlElement | None, page_url: str) -> list[str]:
    """Normalised `<a href>` targets in document order, without repeats; `<base href>` honoured."""
    if doc is None:
        return []
    base_hrefs = doc.xpath("//base/@href")
    base = urljoin(page_url, base_hrefs[0].strip()) if base_hrefs else page_url
    links: dict[str, None] = {}
    for href in doc.xpath("//a/@href"):
        url = normalize_url(href, base)
        if url is not None:
            links[url] = None
    return list(links)
