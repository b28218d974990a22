"""The README's two commands from a newcomer's shell: only the system directories on PATH.

Whatever the bootstrap installs must be found by every later recipe without the user editing
PATH, and a bootstrap that cannot install something must say what and why and fail.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOOLS = REPO / ".tools"


def fresh_shell(*command: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": os.environ["HOME"], "PATH": SYSTEM_PATH, "LANG": "C.UTF-8", **extra}
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_every_make_recipe_calls_uv_by_the_path_bootstrap_installs_it_to():
    dry = fresh_shell("make", "-n", "run", "test", "ui", "serve", "lint", "bench")
    assert dry.returncode == 0, dry.stderr
    uv_calls = [line for line in dry.stdout.splitlines() if re.search(r"(^|[\s;&|(])uv ", line)]
    assert not uv_calls, f"recipes relying on the caller's PATH for uv: {uv_calls}"
    assert f"{TOOLS}/bin/uv run pytest" in dry.stdout


def test_scripts_that_call_uv_find_it_from_a_system_only_path():
    for script in sorted((REPO / "scripts").rglob("*.sh")):
        text = script.read_text()
        if re.search(r"^\s*(uv|.*\buv (run|sync|venv|pip))\b", text, re.MULTILINE):
            sourced = "source scripts/tools.sh" in text or "bootstrap.sh" in text
            called_from_bootstrap = script.name == "install.sh"
            assert sourced or called_from_bootstrap, f"{script} calls uv without scripts/tools.sh"
    found = fresh_shell("bash", "-c", "source scripts/tools.sh && command -v uv")
    assert found.stdout.strip() == f"{TOOLS}/bin/uv"
    assert Path(found.stdout.strip()).is_file(), "make test runs the bootstrap first"


def test_bootstrap_that_cannot_reach_the_registry_fails_in_one_line_and_installs_nothing(
    tmp_path,
):
    tools = tmp_path / "tools"
    result = fresh_shell(
        "bash",
        "scripts/bootstrap.sh",
        ESWI_TOOLS_DIR=str(tools),
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_RETRIES="0",
        PIP_TIMEOUT="2",
    )
    assert result.returncode != 0
    assert "ready" not in result.stdout
    [failure] = result.stderr.strip().splitlines()
    assert failure.startswith("bootstrap: FAILED to install uv: ")
    assert str(tools / "logs" / "uv.log") in failure
    uv = tools / "bin" / "uv"
    assert not uv.exists() and not uv.is_symlink(), "a half-installed uv must not look installed"
    assert all(line.startswith("bootstrap: ") for line in result.stdout.splitlines())
