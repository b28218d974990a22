"""The crawl config file: which sites to crawl, how deep, how politely, and whether to render JS.

Operators edit YAML, not code, so every mistake must surface before a crawl starts, as one
`CrawlConfigError` that names the file and the field (unknown keys included: a typo such as
`max_page` must not silently fall back to a default).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DATE_PLACEHOLDER = "{date}"
_DOMAIN = r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$"

PositiveSeconds = Annotated[float, Field(gt=0)]


class CrawlConfigError(ValueError):
    """The config file cannot be used; the message names the file and the offending field."""


def host_allowed(host: str, allowed_domains: list[str]) -> bool:
    """A host matches a domain or any subdomain of it (`news.example.tw` for `example.tw`)."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in allowed_domains)


class SourceConfig(BaseModel):
    """One site (or section of a site) crawled breadth-first from its start URLs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[\w.-]+$", description="Identifies the source in raw_pages.")
    start_urls: list[str] = Field(
        min_length=1, description=f"May contain {DATE_PLACEHOLDER} (ISO crawl date) for archives."
    )
    allowed_domains: list[Annotated[str, Field(pattern=_DOMAIN)]] = Field(min_length=1)
    max_pages: int = Field(default=100, ge=1, description="Most URLs this source decides about.")
    max_depth: int = Field(default=3, ge=0, description="Link hops from a start URL.")
    render_js: bool = Field(default=False, description="Load pages in headless Chromium.")
    delay_seconds: float = Field(default=1.0, ge=0, description="Pause between requests per host.")
    obey_crawl_delay: bool = Field(
        default=True, description="Use robots.txt Crawl-delay when longer than delay_seconds."
    )
    second_pass_max_pages: int = Field(
        default=100,
        ge=0,
        description="Most URLs that failed with a retryable error tried again at the end; 0: off.",
    )
    wait_for: str = Field(
        default="article",
        min_length=1,
        description="CSS selector that must hold text before a rendered page counts as loaded.",
    )
    render_timeout_s: PositiveSeconds = 10.0
    page_load_timeout_s: PositiveSeconds = 30.0
    request_timeout_s: PositiveSeconds = 15.0
    max_retries: int = Field(default=3, ge=0, le=10)
    max_bytes: int = Field(default=5_000_000, ge=1)

    @field_validator("allowed_domains", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return [d.lower() for d in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _start_urls_inside_allowed_domains(self) -> Self:
        for url in self.start_urls:
            parts = urlsplit(url.replace(DATE_PLACEHOLDER, "2000-01-01"))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"start URL {url!r} is not an absolute http(s) URL")
            if not host_allowed(parts.hostname, self.allowed_domains):
                raise ValueError(
                    f"start URL {url!r} is outside allowed_domains {self.allowed_domains}"
                )
        return self

    def start_urls_for(self, crawl_date: dt.date) -> list[str]:
        """Start URLs with `{date}` filled in, so a backfill crawls that day's archive."""
        return [url.replace(DATE_PLACEHOLDER, crawl_date.isoformat()) for url in self.start_urls]


class CrawlConfig(BaseModel):
    """Every source of one crawl, crawled in file order; the first source to reach a URL owns it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_agent: str = Field(default="eswi-crawler/0.1", min_length=1)
    sources: list[SourceConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [s.name for s in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate source names: {', '.join(duplicates)}")
        return self


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def load_crawl_config(path: str | Path) -> CrawlConfig:
    """Read and validate a crawl config YAML file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CrawlConfigError(f"{path}: cannot read crawl config: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CrawlConfigError(f"{path}: malformed YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CrawlConfigError(
            f"{path}: expected a mapping with 'sources', got {type(data).__name__}"
        )
    try:
        return CrawlConfig.model_validate(data)
    except ValidationError as exc:
        raise CrawlConfigError(f"{path}: invalid crawl config\n{_describe(exc)}") from exc
