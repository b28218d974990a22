"""The crawl schedule: each tick crawls the partition of the day it fires on, Taiwan time.

A plain cron schedule rather than `build_schedule_from_partitioned_job`, which only accepts
minute/hour offsets: operators may want any cron (weekdays only, twice a day, ...).
"""

from zoneinfo import ZoneInfo

import dagster as dg

from eswi_assets.jobs import crawl_job
from eswi_assets.settings import Settings


def build_crawl_schedule(settings: Settings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_crawl",
        cron_schedule=settings.crawl_cron,
        execution_timezone=settings.timezone,
        job=crawl_job,
        description=f"Crawl at `{settings.crawl_cron}` ({settings.timezone}).",
    )
    def daily_crawl(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        tz = ZoneInfo(settings.timezone)
        key = context.scheduled_execution_time.astimezone(tz).date().isoformat()
        return dg.RunRequest(run_key=key, partition_key=key)

    return daily_crawl
