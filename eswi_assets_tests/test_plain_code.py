"""Plain code stays plain: every module of the packages below imports without Dagster, so
tests, benchmarks and the serving image use them on their own and the layering cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]  # the code under test, not an installed copy
PLAIN = ["crawl", "cleaning", "labeling", "training", "evaluation", "stores", "serving"]

IMPORT_ALL = f"""
import importlib, pkgutil, sys
import eswi_assets
for name in {PLAIN!r}:
    package = importlib.import_module("eswi_assets." + name)
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
        loaded = [m for m in sys.modules if m.split(".")[0].startswith("dagster")]
        assert not loaded, (module.name, loaded[:3])
"""


def test_no_plain_module_imports_dagster():
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
