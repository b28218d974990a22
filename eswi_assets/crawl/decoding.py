"""Bytes to text the way browsers do it: BOM, then the HTTP header, then `<meta>`, then a guess.

Taiwanese sites still serve Big5; decoding them as UTF-8 would turn every page into mojibake
that later passes as "text" through cleaning, so the charset is taken seriously here.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
# Labels browsers read as a superset (WHATWG Encoding Standard); Python's strict codecs would
# reject characters real pages use.
_SUPERSETS = {
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(label: str | bytes | None) -> str | None:
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def declared_charset(body: bytes, content_type: str | None) -> str | None:
    """The codec a browser would pick before guessing, or None if nothing declares one."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    header = _HEADER_CHARSET.search(content_type or "")
    if codec := _codec(header[1] if header else None):
        return codec
    meta = _META_CHARSET.search(body[:4096])
    return _codec(meta[1] if meta else None)


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode an HTML body; undecodable bytes become U+FFFD instead of failing the page."""
    codec = declared_charset(body, content_type)
    if codec is None:
        best = charset_normalizer.from_bytes(body).best()
        codec = _codec(best.encoding) if best is not None else "utf-8"
    return body.decode(codec or "utf-8", errors="replace")
