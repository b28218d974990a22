"""The daily crawl fires at the configured local time and crawls the partition of that day."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from pydantic import ValidationError

from eswi_assets.definitions import build_definitions
from eswi_assets.settings import Settings

TAIPEI = ZoneInfo("Asia/Taipei")


def run_request_at(settings: Settings, when: dt.datetime) -> dg.RunRequest:
    with dg.instance_for_test() as instance:
        defs = build_definitions(settings)
        schedule = defs.get_schedule_def("daily_crawl")
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            repository_def=defs.get_repository_def(),
        )
        data = schedule.evaluate_tick(context)
    assert data.run_requests, data.skip_message
    return data.run_requests[0]


def test_tick_at_two_in_the_morning_taipei_crawls_that_taipei_day(tmp_path):
    settings = Settings(data_dir=tmp_path)
    schedule = build_definitions(settings).get_schedule_def("daily_crawl")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Taipei")
    # 02:00 on 21 Nov in Taipei is still 20 Nov in UTC: the partition must follow Taipei.
    request = run_request_at(settings, dt.datetime(2026, 11, 21, 2, 0, tzinfo=TAIPEI))
    assert request.partition_key == "2026-11-21"


def test_cron_comes_from_settings(tmp_path):
    settings = Settings(data_dir=tmp_path, crawl_cron="30 6 * * 1")
    schedule = build_definitions(settings).get_schedule_def("daily_crawl")
    assert schedule.cron_schedule == "30 6 * * 1"


@pytest.mark.parametrize("cron", ["61 2 * * *", "every day", "0 2 * *"])
def test_invalid_cron_is_rejected_naming_the_variable(cron):
    with pytest.raises(ValidationError, match="ESWI_CRAWL_CRON"):
        Settings(crawl_cron=cron)


@pytest.mark.parametrize(
    ("cron", "when", "partition"),
    [
        # 00:30 in Taipei is 16:30 the day before in UTC
        ("30 0 * * *", dt.datetime(2026, 11, 21, 16, 30, tzinfo=dt.UTC), "2026-11-22"),
        # 23:30 in Taipei is 15:30 the same day in UTC
        ("30 23 * * *", dt.datetime(2026, 11, 21, 15, 30, tzinfo=dt.UTC), "2026-11-21"),
    ],
)
def test_ticks_near_midnight_map_to_the_taipei_date(tmp_path, cron, when, partition):
    settings = Settings(data_dir=tmp_path, crawl_cron=cron)
    partitions = build_definitions(settings).resolve_job_def("crawl_job").partitions_def
    assert partitions.has_partition_key(partition)
    assert run_request_at(settings, when).partition_key == partition


def test_each_tick_has_a_run_key_so_a_repeated_tick_launches_nothing_new(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert build_definitions(settings).get_schedule_def("daily_crawl").job_name == "crawl_job"
    when = dt.datetime(2026, 11, 21, 2, 0, tzinfo=TAIPEI)
    first, again = run_request_at(settings, when), run_request_at(settings, when)
    assert first.run_key == again.run_key == "2026-11-21"
