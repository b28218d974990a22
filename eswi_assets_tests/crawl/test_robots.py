"""robots.txt is fetched once per host and read the RFC 9309 way (the edge cases where
`urllib.robotparser` differs included), retried while it is down, and parsed up to 500 KiB."""

from __future__ import annotations

import httpx
import pytest

from eswi_assets.crawl.robots import RobotsCache
from eswi_assets_tests.crawl.support import RouteServer, closed_port_url, fast_fetcher


def test_demo_site_rules_disallow_private_pages_and_are_fetched_once(site):
    with fast_fetcher() as http:
        robots = RobotsCache(http)
        private = robots.check(site.url("/private/member-01.html"))
        article = robots.check(site.url("/articles/0001.html"))
    assert private.verdict == "disallowed"
    assert article.verdict == "allowed"
    assert site.hits["/robots.txt"] == 1


@pytest.mark.parametrize(
    ("status", "verdict"), [(404, "allowed"), (403, "allowed"), (503, "unavailable")]
)
def test_4xx_robots_allows_everything_but_5xx_blocks_the_host(status, verdict):
    transport = httpx.MockTransport(lambda request: httpx.Response(status))
    with fast_fetcher(transport=transport) as http:
        decision = RobotsCache(http).check("http://h.tw/page.html", max_retries=1)
    assert decision.verdict == verdict
    if verdict == "unavailable":
        assert "robots.txt unavailable" in decision.reason and str(status) in decision.reason


def test_unreachable_host_is_unavailable_not_allowed():
    with fast_fetcher() as http:
        decision = RobotsCache(http).check(closed_port_url() + "page.html", max_retries=0)
    assert decision.verdict == "unavailable"
    assert "ConnectError" in decision.reason


def test_rules_for_our_user_agent_apply_to_us_only():
    rules = "User-agent: eswi-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, text=rules, headers={"Content-Type": "text/plain"})
    )
    with fast_fetcher(transport=transport) as http:
        ours = RobotsCache(http, "eswi-test/1.0").check("http://h.tw/a.html")
        theirs = RobotsCache(http, "otherbot").check("http://h.tw/a.html")
    assert (ours.verdict, theirs.verdict) == ("disallowed", "allowed")


def robots_server(text: str | bytes, *, down_for: int = 0) -> RouteServer:
    """Serves `text` as /robots.txt (after `down_for` 503 answers) and a page everywhere else."""
    body = text.encode() if isinstance(text, str) else text

    def route(path: str, n: int) -> tuple[int, dict[str, str], bytes]:
        if path == "/robots.txt":
            if n <= down_for:
                return 503, {}, b"down"
            return 200, {"Content-Type": "text/plain"}, body
        return 200, {"Content-Type": "text/html"}, b"<html><title>t</title></html>"

    return RouteServer(route)


def verdicts(text: str | bytes, paths: list[str], agent: str = "eswi-test/1.0") -> list[str]:
    with robots_server(text) as server, fast_fetcher() as http:
        robots = RobotsCache(http, agent)
        return [robots.check(server.url(path)).verdict for path in paths]


@pytest.mark.parametrize(
    ("rules", "path", "verdict"),
    [
        # `*` matches any run of characters, also inside a path segment
        ("Disallow: /private*", "/private-notes.html", "disallowed"),
        ("Disallow: /*/secret", "/a/b/secret.html", "disallowed"),
        # `$` anchors the end: the query string makes it another URL
        ("Disallow: /*.pdf$", "/files/a.pdf", "disallowed"),
        ("Disallow: /*.pdf$", "/files/a.pdf?page=2", "allowed"),
        ("Disallow: /*.pdf$", "/files/a.pdf.html", "allowed"),
        # the longest matching rule wins, whatever the order; Allow wins a tie
        ("Disallow: /shop\nAllow: /shop/books", "/shop/books/1.html", "allowed"),
        ("Allow: /shop/books\nDisallow: /shop", "/shop/toys.html", "disallowed"),
        ("Allow: /shop\nDisallow: /shop/books", "/shop/books/1.html", "disallowed"),
        ("Disallow: /page\nAllow: /page", "/page.html", "allowed"),
        # no rule matches: allowed
        ("Disallow: /private", "/public.html", "allowed"),
    ],
)
def test_rfc_9309_path_matching(rules, path, verdict):
    assert verdicts(f"User-agent: *\n{rules}\n", [path]) == [verdict]


def test_blank_lines_inside_a_group_do_not_end_it():
    text = "User-agent: eswi-test\n\nDisallow: /a\n\n\nDisallow: /b\n"
    assert verdicts(text, ["/a.html", "/b.html", "/c.html"]) == [
        "disallowed",
        "disallowed",
        "allowed",
    ]


def test_groups_for_the_same_agent_are_merged():
    text = (
        "User-agent: eswi-test\nDisallow: /a\n\n"
        "User-agent: *\nDisallow: /everyone\n\n"
        "User-agent: eswi-test\nDisallow: /b\n"
    )
    # ours: /a and /b from both groups, and the `*` group does not apply to us
    assert verdicts(text, ["/a.html", "/b.html", "/everyone.html"]) == [
        "disallowed",
        "disallowed",
        "allowed",
    ]


def test_a_10_mb_robots_txt_is_parsed_up_to_500_kib():
    head = b"User-agent: *\nDisallow: /early\n"
    filler = b"# " + b"x" * 97 + b"\n"
    text = head + filler * (10 * 1024 * 1024 // len(filler) + 1) + b"Disallow: /late\n"
    assert len(text) > 10 * 1024 * 1024
    assert verdicts(text, ["/early.html", "/late.html", "/other.html"]) == [
        "disallowed",
        "allowed",  # beyond the first 500 KiB: never read
        "allowed",
    ]


def test_robots_txt_that_is_down_for_a_while_is_retried_until_it_answers():
    with (
        robots_server("User-agent: *\nDisallow: /no\n", down_for=3) as server,
        fast_fetcher() as http,
    ):
        robots = RobotsCache(http)
        no, yes = (robots.check(server.url(p), max_retries=1) for p in ("/no.html", "/yes.html"))
    assert (no.verdict, yes.verdict) == ("disallowed", "allowed")
    assert server.hits["/robots.txt"] == 4


def test_robots_txt_down_for_good_is_unavailable_and_fetched_again_once_forgotten():
    with robots_server("User-agent: *\nAllow: /\n", down_for=10) as server, fast_fetcher() as http:
        robots = RobotsCache(http, min_retries=2)
        first = robots.check(server.url("/a.html"), max_retries=0)
        cached = robots.check(server.url("/b.html"), max_retries=0)
        hits_down = server.hits["/robots.txt"]
        robots.forget_unavailable()
        robots.check(server.url("/a.html"), max_retries=0)
    assert (first.verdict, cached.verdict) == ("unavailable", "unavailable")
    assert "503" in first.reason
    assert hits_down == 3 and server.hits["/robots.txt"] == 6


def test_crawl_delay_is_read_for_our_agent():
    text = "User-agent: eswi-test\nCrawl-delay: 2.5\n\nUser-agent: *\nCrawl-delay: 9\n"
    with robots_server(text) as server, fast_fetcher() as http:
        ours, theirs = RobotsCache(http), RobotsCache(http, "otherbot")
        assert ours.crawl_delay(server.url("/a.html")) is None  # not fetched yet
        ours.check(server.url("/a.html"))
        theirs.check(server.url("/a.html"))
        assert (ours.crawl_delay(server.url("/b")), theirs.crawl_delay(server.url("/b"))) == (
            2.5,
            9.0,
        )
