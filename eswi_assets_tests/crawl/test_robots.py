"""robots.txt is fetched once per host and read the RFC 9309 way."""

from __future__ import annotations

import httpx
import pytest

from eswi_assets.crawl.robots import RobotsCache
from eswi_assets_tests.crawl.support import closed_port_url, fast_fetcher


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
