"""Build the demo website: article pages from the review corpus, listings, robots.txt, a manifest.

The manifest records, per page, what a crawler and a cleaner should find there (render mode,
planted PII, look-alikes, near-duplicate source), so tests compare a pipeline run against truth.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from eswi_assets.demo_site.corpus import Sentiment, simplified_reviews, to_traditional
from eswi_assets.demo_site.pii_samples import (
    LOOKALIKE_KINDS,
    PII_KINDS,
    Planted,
    plant_lookalike,
    plant_pii,
)
from eswi_assets.demo_site.templating import render as render_template

DISALLOWED_PREFIX = "/private/"
PER_LISTING = 20
N_PRIVATE = 3
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
_CLAUSE = re.compile(r"[，。！？、,.!?；;：:…~～\s]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FILLERS = "很真也都就還又再才更挺蠻"
_REWRITES = (
    "整體來說還算可以接受。",
    "這點我後來才想通。",
    "朋友看完也有同感。",
    "以上是個人淺見。",
)


@dataclass(frozen=True)
class PageSpec:
    """One article page and what is true about it."""

    path: str
    title: str
    summary: str
    body: str  # paragraphs joined by "\n", as a reader sees them after rendering
    render: str  # "static" | "js" | "js_delayed"
    sentiment: str  # "positive" | "negative"
    planted_pii: tuple[tuple[str, str], ...]  # (kind, exact string in body)
    lookalikes: tuple[str, ...]  # PII-looking strings in body that are not PII
    near_duplicate_of: str | None
    links: tuple[str, ...]  # hrefs on the page: home, related articles, its listing page
    delay_ms: int = 0  # js_delayed: the article appears this long after DOMContentLoaded


@dataclass(frozen=True)
class SiteManifest:
    """The generated site: its directory, its article pages and what robots.txt forbids."""

    root: Path
    pages: tuple[PageSpec, ...]
    disallowed_prefix: str = DISALLOWED_PREFIX
    private_paths: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["root"] = str(self.root)
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, root: Path) -> SiteManifest:
        """Read root/manifest.json back (tuples restored, root taken from where it lies now)."""
        data = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        pages = tuple(
            PageSpec(
                **{
                    **page,
                    "planted_pii": tuple(tuple(p) for p in page["planted_pii"]),
                    "lookalikes": tuple(page["lookalikes"]),
                    "links": tuple(page["links"]),
                }
            )
            for page in data["pages"]
        )
        return cls(root, pages, data["disallowed_prefix"], tuple(data["private_paths"]))


@dataclass
class _Draft:
    """A page body while it is assembled; `planted` holds PII and look-alikes alike."""

    sentiment: Sentiment
    paragraphs: list[str]
    title: str
    summary: str
    pii: list[Planted] = field(default_factory=list)
    lookalikes: list[Planted] = field(default_factory=list)
    near_of: int | None = None


def jaccard_3gram(a: str, b: str) -> float:
    """Jaccard similarity of character 3-gram sets, the near-duplicate measure the cleaner uses."""
    grams_a = {a[i : i + 3] for i in range(len(a) - 2)}
    grams_b = {b[i : i + 3] for i in range(len(b) - 2)}
    return len(grams_a & grams_b) / max(1, len(grams_a | grams_b))


def _title_and_summary(first_paragraph: str) -> tuple[str, str]:
    clauses = [c for c in _CLAUSE.split(first_paragraph) if len(c) >= 4]
    title = (clauses[0] if clauses else first_paragraph)[:18]
    summary = ""
    for sentence in filter(None, _SENTENCE_END.split(first_paragraph)):
        summary += sentence
        if len(summary) >= 30:
            break
    return title, summary if len(summary) <= 80 else summary[:79] + "…"


def _draw_body(rng: random.Random, sentiment: Sentiment, pool: list[str]) -> _Draft:
    target = rng.randint(350, 800)
    paragraphs: list[str] = []
    while len(paragraphs) < 3 or (sum(map(len, paragraphs)) < target and len(paragraphs) < 8):
        paragraphs.append(to_traditional(pool.pop()))
    return _Draft(sentiment, paragraphs, *_title_and_summary(paragraphs[0]))


def _attach(rng: random.Random, draft: _Draft, planted: Planted) -> None:
    i = rng.randrange(len(draft.paragraphs))
    draft.paragraphs[i] = f"{draft.paragraphs[i]}{planted.sentence}。"


def _plant(rng: random.Random, drafts: list[_Draft]) -> None:
    """PII on about 1 page in 6, look-alikes on another (overlapping) 1 in 6."""
    for draft in rng.sample(drafts, len(drafts) // 6):
        adjacent = rng.random() < 0.5
        for kind in rng.sample(PII_KINDS, rng.randint(1, 3)):
            draft.pii.append(plant_pii(rng, kind, adjacent=adjacent))
            _attach(rng, draft, draft.pii[-1])
    for draft in rng.sample(drafts, len(drafts) // 6):
        for kind in rng.sample(LOOKALIKE_KINDS, rng.randint(1, 3)):
            draft.lookalikes.append(plant_lookalike(rng, kind))
            _attach(rng, draft, draft.lookalikes[-1])


def _editable_positions(paragraph: str, protected: list[str]) -> list[int]:
    """CJK characters that lie outside every planted value, so edits keep the manifest true."""
    blocked: set[int] = set()
    for value in protected:
        for match in re.finditer(re.escape(value), paragraph):
            blocked.update(range(match.start(), match.end()))
    return [m.start() for m in _CJK.finditer(paragraph) if m.start() not in blocked]


def _edit_sentence(rng: random.Random, paragraphs: list[str], protected: list[str]) -> bool:
    for i in rng.sample(range(len(paragraphs)), len(paragraphs)):
        sentences = [s for s in _SENTENCE_END.split(paragraphs[i]) if s]
        short = [
            j
            for j, s in enumerate(sentences)
            if 6 <= len(s) <= 25 and not any(v in s for v in protected)
        ]
        if short:
            sentences[rng.choice(short)] = rng.choice(_REWRITES)
            paragraphs[i] = "".join(sentences)
            return True
    return False


def _edit_chars(rng: random.Random, paragraphs: list[str], protected: list[str]) -> None:
    for _ in range(rng.randint(2, 5)):
        i = rng.randrange(len(paragraphs))
        positions = _editable_positions(paragraphs[i], protected)
        if positions:
            at = rng.choice(positions)
            p = paragraphs[i]
            paragraphs[i] = p[:at] + rng.choice(_FILLERS.replace(p[at], "")) + p[at + 1 :]


def _near_duplicate(rng: random.Random, base: _Draft, base_index: int) -> _Draft:
    """The same body with one short sentence reworded or a few characters changed."""
    protected = [p.value for p in (*base.pii, *base.lookalikes)]
    paragraphs = list(base.paragraphs)
    reworded = rng.random() < 0.5 and _edit_sentence(rng, paragraphs, protected)
    if not reworded or jaccard_3gram("\n".join(base.paragraphs), "\n".join(paragraphs)) < 0.85:
        paragraphs = list(base.paragraphs)
        _edit_chars(rng, paragraphs, protected)
    title = base.title + rng.choice(("（轉載）", "（更新）", ""))
    return dataclasses.replace(base, paragraphs=paragraphs, title=title, near_of=base_index)


def _listing_path(rank: int) -> str:
    return f"/list/{rank // PER_LISTING + 1:02d}.html"


def _prepare_dir(out_dir: Path) -> None:
    """Replace an earlier build, but never wipe a directory this generator did not write."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / "manifest.json").exists():
            raise FileExistsError(f"{out_dir} is not empty and holds no demo-site manifest")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _private_pages(rng: random.Random, pool: list[str]) -> dict[str, list[str]]:
    """Member pages full of PII behind robots.txt: a polite crawler must never request them."""
    return {
        f"{DISALLOWED_PREFIX}member-{n:02d}.html": [
            to_traditional(pool.pop()),
            *(plant_pii(rng, kind, adjacent=False).sentence + "。" for kind in PII_KINDS),
        ]
        for n in range(1, N_PRIVATE + 1)
    }


def _plan_articles(
    rng: random.Random, n_pages: int, pools: dict[Sentiment, list[str]]
) -> tuple[PageSpec, ...]:
    """Draw bodies, plant PII and look-alikes, add near-duplicates, then number and link pages."""
    n_dups = n_pages // 12
    drafts = [
        _draw_body(rng, s, pools[s])
        for s in (rng.choice(("positive", "negative")) for _ in range(n_pages - n_dups))
    ]
    _plant(rng, drafts)
    drafts += [_near_duplicate(rng, drafts[i], i) for i in rng.sample(range(len(drafts)), n_dups)]

    slots = rng.sample(range(n_pages), n_pages)  # draft index -> article number
    paths = [f"/articles/{slot:04d}.html" for slot in slots]
    order = sorted(range(n_pages), key=slots.__getitem__)
    js = rng.sample(order, n_pages // 3)
    delayed = set(js[: len(js) // 2])
    pages = []
    for rank, i in enumerate(order):
        draft = drafts[i]
        related = rng.sample([j for j in order if j != i], rng.randint(3, 5))
        pages.append(
            PageSpec(
                path=paths[i],
                title=draft.title,
                summary=draft.summary,
                body="\n".join(draft.paragraphs),
                render="js_delayed" if i in delayed else "js" if i in js else "static",
                sentiment=draft.sentiment,
                planted_pii=tuple((p.kind, p.value) for p in draft.pii),
                lookalikes=tuple(p.value for p in draft.lookalikes),
                near_duplicate_of=None if draft.near_of is None else paths[draft.near_of],
                links=("/", *(paths[j] for j in related), _listing_path(rank)),
                delay_ms=rng.randint(300, 1500) if i in delayed else 0,
            )
        )
    return tuple(pages)


def _write_site(manifest: SiteManifest, private: dict[str, list[str]]) -> None:
    root, pages = manifest.root, manifest.pages
    titles = {page.path: page.title for page in pages}
    for page in pages:
        related = [{"path": link, "title": titles[link]} for link in page.links if link in titles]
        html = render_template(
            "article.html",
            title=page.title,
            summary=page.summary,
            paragraphs=page.body.split("\n"),
            render=page.render,
            delay_ms=page.delay_ms,
            related=related,
            listing=page.links[-1],
        )
        _write(root, page.path, html)
    listings = [_listing_path(rank) for rank in range(0, len(pages), PER_LISTING)]
    for k, listing in enumerate(listings):
        _write(
            root,
            listing,
            render_template(
                "listing.html",
                title=f"文章列表 第 {k + 1} 頁",
                summary="",
                pages=pages[k * PER_LISTING : (k + 1) * PER_LISTING],
                previous=listings[k - 1] if k else None,
                next=listings[k + 1] if k + 1 < len(listings) else None,
            ),
        )
    for path, paragraphs in private.items():
        html = render_template("private.html", title="會員資料", summary="", paragraphs=paragraphs)
        _write(root, path, html)
    index = render_template(
        "index.html",
        title="讀者心得站",
        summary="收錄讀者對書籍、商品與旅館的心得評論。",
        latest=pages[:10],
        listings=listings,
        private=manifest.private_paths,
    )
    _write(root, "/index.html", index)
    _write(root, "/robots.txt", f"User-agent: *\nDisallow: {manifest.disallowed_prefix}\n")
    _write(root, "/manifest.json", manifest.to_json())


def build_site(out_dir: Path, *, n_pages: int = 240, seed: int = 7) -> SiteManifest:
    """Generate the site under out_dir (replacing an earlier build) and return its manifest."""
    if n_pages < 12:
        raise ValueError("n_pages must be at least 12 so every kind of page appears")
    rng = random.Random(seed)
    pools: dict[Sentiment, list[str]] = {
        s: rng.sample(simplified_reviews(s), len(simplified_reviews(s)))
        for s in ("positive", "negative")
    }
    pages = _plan_articles(rng, n_pages, pools)
    private = _private_pages(rng, pools["positive"])
    manifest = SiteManifest(Path(out_dir), pages, DISALLOWED_PREFIX, tuple(private))
    _prepare_dir(manifest.root)
    _write_site(manifest, private)
    return manifest
