"""The serving process runs without Dagster: it builds the profile's plain stores itself, so the
FastAPI app never constructs a Dagster resource and its image need not carry Dagster. (That
importing it loads no Dagster is `test_plain_code.py`'s walk over every plain module.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eswi_assets.settings import Profile

REPO_ROOT = Path(__file__).resolve().parents[2]  # the code under test, not an installed copy

BUILD_THE_APP = """
import sys
from eswi_assets.serving.app import create_app
from eswi_assets.settings import Settings

app = create_app(Settings())
loaded = [m for m in sys.modules if m == "dagster" or m.startswith(("dagster.", "dagster_"))]
assert not loaded, loaded
"""


@pytest.mark.parametrize("profile", list(Profile), ids=lambda p: p.value)
def test_the_app_and_its_stores_are_built_without_importing_dagster(profile, tmp_path: Path):
    env = os.environ | {
        "ESWI_PROFILE": profile.value,
        "ESWI_DATA_DIR": str(tmp_path),
        "ESWI_ELASTICSEARCH_URL": "http://127.0.0.1:9",
        "ESWI_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", BUILD_THE_APP],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
