"""The demo site is the ground truth crawler and cleaner tests compare against: check it holds."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import lxml.html
import pytest

from eswi_assets.demo_site.__main__ import main
from eswi_assets.demo_site.generate import PageSpec, SiteManifest, build_site
from eswi_assets.demo_site.server import DemoSite, serve
from eswi_assets.demo_site.tw_id import is_valid_tw_id

_ID_SHAPE = re.compile(r"[A-Z][1289]\d{8}")
_HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> SiteManifest:
    return build_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def site(manifest: SiteManifest) -> Iterator[DemoSite]:
    with serve(manifest.root) as running:
        yield running


@pytest.fixture(scope="module")
def client(site: DemoSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        yield http


def _html(manifest: SiteManifest, page: PageSpec) -> str:
    return (manifest.root / page.path.lstrip("/")).read_text(encoding="utf-8")


def _tree(manifest: SiteManifest, page: PageSpec) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(_html(manifest, page))


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _jaccard(a: str, b: str) -> float:
    x, y = _trigrams(a), _trigrams(b)
    return len(x & y) / len(x | y)


def test_site_has_enough_article_pages_with_title_summary_and_long_body(manifest):
    assert len(manifest.pages) >= 200
    assert len({p.path for p in manifest.pages}) == len(manifest.pages)
    for page in manifest.pages:
        tree = _tree(manifest, page)
        assert page.title and tree.findtext(".//title") == page.title
        assert tree.findtext(".//h1") == page.title
        assert tree.xpath("//meta[@name='description']/@content") == [page.summary]
        assert tree.xpath("//p[@class='summary']/text()") == [page.summary]
        assert len(page.body) >= 300 and page.body.count("\n") >= 2


def test_about_a_third_of_pages_need_javascript_and_half_of_those_wait(manifest):
    renders = Counter(p.render for p in manifest.pages)
    js = renders["js"] + renders["js_delayed"]
    assert 0.25 <= js / len(manifest.pages) <= 0.42
    assert renders["js_delayed"] >= js // 3
    for page in manifest.pages:
        html = _html(manifest, page)
        if page.render == "js_delayed":
            assert 300 <= page.delay_ms <= 1500
            assert f"setTimeout(render, {page.delay_ms})" in html
        if page.render != "static":
            assert '<div id="content"></div>' in html and "<article>" not in html


def test_javascript_page_bodies_are_not_readable_in_static_html(manifest):
    for page in manifest.pages:
        html = _html(manifest, page)
        articles = _tree(manifest, page).xpath("//article")
        if page.render == "static":
            assert "\n".join(articles[0].xpath("./p/text()")) == page.body
        else:
            assert not articles
            assert not any(p in html for p in page.body.split("\n")[1:])


def test_planted_ids_pass_the_check_digit_rule_and_lookalike_ids_fail_it(manifest):
    ids = [value for p in manifest.pages for kind, value in p.planted_pii if kind == "tw_id"]
    fakes = [v for p in manifest.pages for v in p.lookalikes if _ID_SHAPE.fullmatch(v)]
    assert ids and fakes
    assert all(is_valid_tw_id(v) for v in ids)
    assert not any(is_valid_tw_id(v) for v in fakes)
    assert is_valid_tw_id("A123456789") and not is_valid_tw_id("A123456780")


def test_planted_strings_appear_exactly_in_their_body(manifest):
    pii_pages = [p for p in manifest.pages if p.planted_pii]
    assert 0.1 <= len(pii_pages) / len(manifest.pages) <= 0.3
    for page in manifest.pages:
        for _, value in page.planted_pii:
            assert value in page.body
        for value in page.lookalikes:
            assert value in page.body
    kinds = {kind for p in pii_pages for kind, _ in p.planted_pii}
    assert kinds == {"tw_id", "mobile", "landline", "email", "address"}
    values = [v for p in pii_pages for _, v in p.planted_pii]
    assert any(re.search(r"[０-９]{10}", v) for v in values)
    assert any(v.startswith("+886 ") for v in values)
    hard = re.compile(
        r"[\u4e00-\u9fff](?:" + "|".join(map(re.escape, values)) + r")[\u4e00-\u9fff]"
    )
    assert any(hard.search(p.body) for p in pii_pages)


def test_near_duplicates_are_near_and_distinct_pages_are_not(manifest):
    by_path = {p.path: p for p in manifest.pages}
    dups = [p for p in manifest.pages if p.near_duplicate_of]
    assert len(manifest.pages) // 15 <= len(dups) <= len(manifest.pages) // 10
    for page in dups:
        original = by_path[page.near_duplicate_of]
        assert page.body != original.body
        assert _jaccard(page.body, original.body) > 0.8
    related = {frozenset((p.path, p.near_duplicate_of)) for p in dups}
    related |= {
        frozenset((a.path, b.path))
        for a in dups
        for b in dups
        if a.near_duplicate_of == b.near_duplicate_of
    }
    pages = manifest.pages[:60]
    for i, a in enumerate(pages):
        for b in pages[i + 1 :]:
            if frozenset((a.path, b.path)) not in related:
                assert _jaccard(a.body, b.body) < 0.3


def test_robots_txt_disallows_private_pages_that_the_index_links_to(manifest, client):
    robots = client.get("/robots.txt")
    assert robots.status_code == 200
    assert "Disallow: /private/" in robots.text.splitlines()
    index = client.get("/").text
    assert manifest.private_paths
    assert all(
        p.startswith(manifest.disallowed_prefix) and p in index for p in manifest.private_paths
    )


def test_every_article_is_reachable_from_the_home_page_within_three_links(manifest):
    depth = {"/": 0}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if path.startswith(manifest.disallowed_prefix) or depth[path] >= 3:
            continue
        local = "/index.html" if path == "/" else path
        for href in _HREF.findall((manifest.root / local.lstrip("/")).read_text(encoding="utf-8")):
            if href not in depth:
                depth[href] = depth[path] + 1
                queue.append(href)
    assert {p.path for p in manifest.pages} <= depth.keys()


def test_each_article_links_to_several_others_and_home(manifest):
    paths = {p.path for p in manifest.pages}
    for page in manifest.pages:
        hrefs = _HREF.findall(_html(manifest, page))
        assert set(page.links) <= set(hrefs) and "/" in page.links
        assert 3 <= len(set(page.links) & paths) <= 5
        assert page.path not in page.links


def test_server_serves_pages_as_utf8_html_and_counts_hits(manifest, site, client):
    page = manifest.pages[0]
    before = site.hits[page.path]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(client.get, [page.path] * 4))
    assert all(r.status_code == 200 for r in responses)
    assert responses[0].headers["content-type"] == "text/html; charset=utf-8"
    assert page.title in responses[0].content.decode("utf-8")
    assert site.hits[page.path] == before + 4
    assert client.get("/articles/does-not-exist.html").status_code == 404


def test_big5_trap_is_declared_and_encoded_as_big5(client):
    response = client.get("/trap/big5.html")
    assert response.headers["content-type"] == "text/html; charset=big5"
    assert "大五碼" in response.content.decode("big5")
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")


def test_flaky_trap_fails_n_times_then_serves_an_article(client):
    statuses = [client.get("/trap/flaky/retry-me.html?fail=3").status_code for _ in range(5)]
    assert statuses == [500, 500, 500, 200, 200]
    assert "<article>" in client.get("/trap/flaky/retry-me.html?fail=3").text
    assert client.get("/trap/flaky/other-key.html?fail=1").status_code == 500


def test_status_traps_answer_their_status_and_429_says_retry_now(client):
    for code in (500, 503, 404):
        assert client.get(f"/trap/status/{code}.html").status_code == code
    limited = client.get("/trap/status/429.html")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "0"


def test_slow_trap_outlasts_a_short_read_timeout(site):
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(site.base_url + "/trap/slow.html?seconds=2", timeout=0.3)


def test_non_html_and_huge_traps_announce_themselves_in_headers(client):
    assert client.get("/trap/binary.bin").headers["content-type"] == "application/octet-stream"
    png = client.get("/trap/image.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    with client.stream("GET", "/trap/huge.html") as huge:
        assert huge.headers["content-type"].startswith("text/html")
        assert int(huge.headers["content-length"]) > 20 * 1024 * 1024
        received = sum(len(chunk) for chunk in huge.iter_bytes())
    assert received == int(huge.headers["content-length"])


def test_trap_index_links_every_trap_and_broken_page_still_has_chinese(client):
    index = client.get("/trap/index.html").text
    for trap in ("slow", "status/429", "flaky", "big5", "binary", "image", "huge", "broken"):
        assert f"/trap/{trap}" in index
    assert "中文" in client.get("/trap/broken.html").text


def test_build_is_deterministic_for_a_seed_and_varies_with_it(tmp_path, manifest):
    again = build_site(tmp_path / "again")
    assert again.pages == manifest.pages
    html = (tmp_path / "again" / "index.html").read_text(encoding="utf-8")
    assert html == (manifest.root / "index.html").read_text(encoding="utf-8")
    assert build_site(tmp_path / "other", n_pages=24, seed=8).pages[0] != manifest.pages[0]


def test_manifest_round_trips_through_its_json_file(manifest):
    assert SiteManifest.load(manifest.root) == manifest


def test_rebuild_refuses_to_wipe_a_directory_it_did_not_write(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        build_site(tmp_path, n_pages=24)
    assert (tmp_path / "notes.txt").exists()


def test_cli_build_writes_a_site_with_the_requested_page_count(tmp_path, capsys):
    main(["build", "--dir", str(tmp_path / "cli"), "--pages", "24", "--seed", "3"])
    assert len(SiteManifest.load(tmp_path / "cli").pages) == 24
    assert "24 article pages" in capsys.readouterr().out
