"""The jinja2 templates every demo page is rendered from (site pages and trap pages alike)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("eswi_assets.demo_site"),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render(template: str, **context: Any) -> str:
    """Render one of templates/*.html; autoescaped, and a missing variable is an error."""
    return _environment().get_template(template).render(**context)
