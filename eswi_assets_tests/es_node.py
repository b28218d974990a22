"""A throw-away single-node Elasticsearch on 127.0.0.1, for tests and benchmarks.

It runs the integ-test distribution that `scripts/elasticsearch/install.sh` unpacks into
`.vendor/` with the machine's Java 17: small heap, security off, config, data and logs in a
working directory of its own. Elasticsearch refuses to run as root, so as root the node runs as
the `eswi-es` system user that install.sh creates.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "elasticsearch" / "install.sh"
RUN_AS_USER = "eswi-es"


def install(script: Path = INSTALL_SCRIPT) -> Path:
    """Runs install.sh (a no-op when done before) and returns the Elasticsearch home it prints."""
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def java_home() -> Path:
    """ES_JAVA_HOME when set, else the JDK behind `java` on PATH."""
    if home := os.environ.get("ES_JAVA_HOME"):
        return Path(home)
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("Elasticsearch needs Java 17: install it or set ES_JAVA_HOME")
    return Path(java).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ElasticsearchNode:
    """One node; `start`/`stop` may be called again (same ports and data), e.g. to test outages."""

    home: Path
    workdir: Path
    heap: str = "512m"
    http_port: int = field(default_factory=free_port)
    transport_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_file(self) -> Path:
        return self.workdir / "logs" / "console.log"

    def _configure(self) -> None:
        config = self.workdir / "config"
        if not config.exists():
            shutil.copytree(self.home / "config", config)
        settings = {
            "cluster.name": "eswi-test",
            "node.name": "eswi-test",
            "network.host": "127.0.0.1",
            "http.port": self.http_port,
            "transport.port": self.transport_port,
            "discovery.type": "single-node",
            "xpack.security.enabled": "false",
            # Temp dirs on CI disks are often nearly full: never turn indices read-only for that.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
        }
        (config / "elasticsearch.yml").write_text(
            "".join(f"{key}: {value}\n" for key, value in settings.items())
        )
        for name in ("data", "logs", "tmp"):
            (self.workdir / name).mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, RUN_AS_USER, RUN_AS_USER)
            for path in self.workdir.rglob("*"):
                shutil.chown(path, RUN_AS_USER, RUN_AS_USER)

    def _runnable_home(self) -> Path:
        """The home, or a copy in the workdir when the run user cannot read it (a checkout
        under /root, say)."""
        if os.geteuid() != 0:
            return self.home
        launcher, options = (
            self.home / "bin" / "elasticsearch",
            self.home / "config" / "jvm.options",
        )
        probe = ["test", "-x", str(launcher), "-a", "-r", str(options)]
        if subprocess.run(probe, user=RUN_AS_USER, check=False).returncode == 0:
            return self.home
        copy = self.workdir / "home"
        if not copy.exists():
            shutil.copytree(self.home, copy, symlinks=True)
        return copy

    def start(self, timeout: float = 180) -> ElasticsearchNode:
        """Starts the node and returns once the cluster is at least yellow."""
        home = self._runnable_home()
        self._configure()
        env = os.environ | {
            "ES_JAVA_HOME": str(java_home()),
            "ES_PATH_CONF": str(self.workdir / "config"),
            "ES_TMPDIR": str(self.workdir / "tmp"),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
        }
        as_user = {"user": RUN_AS_USER, "group": RUN_AS_USER} if os.geteuid() == 0 else {}
        with self.log_file.open("ab") as log:
            # A session of its own: the launcher JVM starts the server JVM, stop() ends both.
            self.process = subprocess.Popen(
                [str(home / "bin" / "elasticsearch")],
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **as_user,
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Elasticsearch exited while starting:\n{self._log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(
                    f"{self.url}/_cluster/health",
                    params={"wait_for_status": "yellow", "timeout": "1s"},
                    timeout=5,
                )
                if health.status_code == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"Elasticsearch not ready after {timeout:.0f}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-4000:] if self.log_file.exists() else ""

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to the node's process group (a clean shutdown), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def running_node(home: Path | None = None, heap: str = "512m") -> Iterator[ElasticsearchNode]:
    """A started node in a temporary directory, stopped and removed on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="eswi-es-"))
    node = ElasticsearchNode(home=home or install(), workdir=workdir, heap=heap)
    try:
        yield node.start()
    finally:
        node.stop()
        shutil.rmtree(workdir, ignore_errors=True)
