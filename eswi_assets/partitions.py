"""Crawl-date partitions: one partition per day of crawling, in Taiwan's time zone."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from eswi_assets.settings import Settings


def crawl_date_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """Partitions end at today's date so the schedule can crawl 'today' after 02:00 local."""
    return dg.DailyPartitionsDefinition(
        start_date=settings.partitions_start,
        timezone=settings.timezone,
        end_offset=1,
    )


def partition_day(partition_key: str) -> dt.date:
    return dt.date.fromisoformat(partition_key)
