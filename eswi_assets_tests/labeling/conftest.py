"""A real doccano 1.8.4 for the labeling tests, started once per session on a free 127.0.0.1 port
through the same scripts people use (scripts/doccano/install.sh, start.sh, stop.sh).

It has an admin and two annotator accounts. Each test works in a project of its own, so tests
never see each other's examples. Set ESWI_SKIP_DOCCANO=1 to skip the tests that need the server;
otherwise a doccano that does not start is an error, not a skip.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import pytest

from eswi_assets.resources.doccano import DoccanoResource

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts" / "doccano"
ANNOTATORS = ("annotator_a", "annotator_b")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client(url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Token {token}"} if token else {}
    jar = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(base_url=url, headers=headers, cookies=jar, timeout=30)


@dataclass
class DoccanoUser:
    """Someone working in doccano's UI, acting over the same REST routes the UI calls."""

    url: str
    username: str
    password: str
    _http: httpx.Client | None = field(default=None, repr=False)

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            login = _client(self.url).post(
                "/v1/auth/login/", json={"username": self.username, "password": self.password}
            )
            login.raise_for_status()
            self._http = _client(self.url, login.json()["key"])
        return self._http

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def project_id(self, name: str) -> int:
        projects = self.call("GET", "/v1/projects", params={"q": name, "limit": 100})["results"]
        return next(p["id"] for p in projects if p["name"] == name)

    def examples(self, project_id: int) -> list[dict]:
        page = self.call("GET", f"/v1/projects/{project_id}/examples", params={"limit": 10_000})
        return page["results"]

    def label(self, project_id: int, example_id: int, label: str) -> None:
        types = self.call("GET", f"/v1/projects/{project_id}/category-types")
        label_id = next(t["id"] for t in types if t["text"] == label)
        path = f"/v1/projects/{project_id}/examples/{example_id}/categories"
        self.call("POST", path, json={"label": label_id})

    def confirm(self, project_id: int, example_id: int) -> None:
        """Mark an example confirmed; doccano's route toggles, so look before posting."""
        path = f"/v1/projects/{project_id}/examples/{example_id}/states"
        if not self.call("GET", path)["results"]:
            self.call("POST", path, json={})


@dataclass
class DoccanoServer:
    data_dir: Path
    port: int
    admin_password: str
    annotator_password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return os.environ | {
            "ESWI_DOCCANO_PASSWORD": self.admin_password,
            "ESWI_DOCCANO_WORKERS": "2",
            "ESWI_DOCCANO_THREADS": "4",
        }

    def start(self) -> None:
        done = subprocess.run(
            ["bash", str(SCRIPTS / "start.sh"), str(self.data_dir), str(self.port)],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"doccano did not start:\n{done.stdout}\n{done.stderr}")

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPTS / "stop.sh"), str(self.data_dir)], check=True)

    def is_up(self) -> bool:
        try:
            httpx.get(f"{self.url}/v1/roles", timeout=5)
        except httpx.TransportError:
            return False
        return True

    @property
    def admin(self) -> DoccanoUser:
        return DoccanoUser(self.url, "admin", self.admin_password)

    def annotator(self, name: str) -> DoccanoUser:
        return DoccanoUser(self.url, name, self.annotator_password)

    def resource(self, project_name: str, **overrides: Any) -> DoccanoResource:
        return DoccanoResource(
            url=self.url, password=self.admin_password, project_name=project_name, **overrides
        )

    def add_annotators(self, project_name: str) -> int:
        """Make both annotators members of the project; returns the project id."""
        admin = self.admin
        project_id = admin.project_id(project_name)
        role = next(r["id"] for r in admin.call("GET", "/v1/roles") if r["name"] == "annotator")
        users = {u["username"]: u["id"] for u in admin.call("GET", "/v1/users")}
        for name in ANNOTATORS:
            admin.call(
                "POST",
                f"/v1/projects/{project_id}/members",
                json={"user": users[name], "role": role},
            )
        return project_id


@pytest.fixture(scope="session")
def doccano_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DoccanoServer]:
    if os.environ.get("ESWI_SKIP_DOCCANO") == "1":
        pytest.skip("ESWI_SKIP_DOCCANO=1: the doccano tests are switched off")
    subprocess.run(["bash", str(SCRIPTS / "install.sh")], check=True, timeout=900)
    server = DoccanoServer(
        data_dir=tmp_path_factory.mktemp("doccano"),
        port=_free_port(),
        # Starts with "-" on purpose: 1 in 64 random passwords does, and start.sh must pass
        # it to `doccano createuser` as a value, not an option.
        admin_password="-" + secrets.token_urlsafe(16),
        annotator_password=secrets.token_urlsafe(16),
    )
    server.start()
    try:
        for name in ANNOTATORS:
            server.admin.call(
                "POST",
                "/v1/users/create",
                json={
                    "username": name,
                    "email": f"{name}@example.com",
                    "password1": server.annotator_password,
                    "password2": server.annotator_password,
                },
            )
        yield server
    finally:
        server.stop()


@pytest.fixture
def doccano(doccano_server: DoccanoServer) -> DoccanoServer:
    """The session's doccano, restarted first if an earlier test stopped it."""
    if not doccano_server.is_up():
        doccano_server.start()
    return doccano_server


@pytest.fixture
def project_name() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"
