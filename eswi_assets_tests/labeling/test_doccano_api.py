"""The REST client's failure handling, against scripted answers (no doccano needed)."""

import socket

import httpx
import pytest

from eswi_assets.labeling.doccano_api import DoccanoApi, DoccanoError

URL = "http://doccano.test"


class Script:
    """Answers requests from a list of (status, json) per path; records what was asked."""

    def __init__(self, answers: dict[str, list]) -> None:
        self.answers = answers
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path, request.headers.get("authorization")))
        if request.url.path == "/v1/auth/login/":
            logins = sum(1 for _, path, _ in self.seen if path == "/v1/auth/login/")
            return httpx.Response(200, json={"key": f"token{logins}"})
        answer = self.answers[request.url.path].pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return httpx.Response(status, json=body)

    def calls(self, path: str) -> int:
        return sum(1 for _, p, _ in self.seen if p == path)


def _api(script: Script, attempts: int = 3) -> DoccanoApi:
    return DoccanoApi(
        URL, "admin", "pw", attempts=attempts, retry_wait_s=0, transport=httpx.MockTransport(script)
    )


def test_a_500_is_retried_until_doccano_answers():
    script = Script({"/v1/users": [(500, {}), (502, {}), (200, [{"id": 1}])]})
    assert _api(script).users() == [{"id": 1}]
    assert script.calls("/v1/users") == 3


def test_a_500_that_persists_is_a_clear_error_naming_the_url():
    script = Script({"/v1/users": [(500, {"detail": "boom"})] * 3})
    with pytest.raises(DoccanoError, match=r"doccano at http://doccano.test .*500.*boom"):
        _api(script).users()


def test_an_expired_token_is_replaced_by_logging_in_again():
    script = Script({"/v1/users": [(403, {"detail": "Invalid token."}), (200, [])]})
    assert _api(script).users() == []
    tokens = [auth for _, path, auth in script.seen if path == "/v1/users"]
    assert tokens == ["Token token1", "Token token2"]


def test_a_post_that_may_have_arrived_is_not_sent_twice():
    path = "/v1/projects/1/examples"
    script = Script({path: [httpx.ReadTimeout("slow"), (201, {"id": 1})]})
    with pytest.raises(DoccanoError, match="did not answer"):
        _api(script).create_example(1, "服務很好。", {"sentence_id": "x"})
    assert script.calls(path) == 1


def test_pagination_walks_every_page():
    path = "/v1/projects/1/examples"
    pages = [
        (200, {"results": [{"id": 1}, {"id": 2}], "next": "more"}),
        (200, {"results": [{"id": 3}], "next": None}),
    ]
    assert [e["id"] for e in _api(Script({path: pages})).examples(1)] == [1, 2, 3]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_server_is_a_clear_error_that_says_how_to_start_one():
    api = DoccanoApi(
        f"http://127.0.0.1:{_closed_port()}", "admin", "pw", attempts=2, retry_wait_s=0
    )
    with pytest.raises(DoccanoError, match=r"127\.0\.0\.1.*start\.sh"):
        api.users()
