"""What the last run on this instance decided, for `make run`: every check's verdict, and whether
the run failed only because a model's quality gate kept a candidate out of LATEST.

A rejected candidate is the pipeline working (serving keeps the promoted version), so the main
command reports it and succeeds; any other failure, a data check included (the models must not
train on a corpus that failed one), fails the command.
"""

from __future__ import annotations

import sys
from collections.abc import Collection

import dagster as dg

from eswi_assets.keys import MODEL_KEYS

CHECK_FAILED = "DagsterAssetCheckFailedError"


def summarize(
    instance: dg.DagsterInstance, run_id: str, gated: Collection[str] = MODEL_KEYS
) -> tuple[list[str], bool]:
    """Lines for the log, and whether the run succeeded or failed only by gates of `gated`."""
    run = instance.get_run_by_id(run_id)
    lines, acceptable = [], run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    if run is None:
        return [f"run {run_id} not found"], False
    failures = []
    for record in instance.all_logs(
        run_id,
        of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION},
    ):
        event = record.dagster_event
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            check = event.event_specific_data
            verdict = "passed" if check.passed else f"FAILED ({check.description})"
            lines.append(f"check {check.asset_key.to_user_string()}:{check.check_name} {verdict}")
        else:
            failures.append((event.step_key, event.step_failure_data.error))
    for step, error in failures:
        if error.cls_name == CHECK_FAILED and step in gated:
            lines.append(f"{step}: candidate kept out of LATEST by its quality gate")
        else:
            lines.append(f"{step} failed: {error.cls_name}: {error.message.strip()[:300]}")
    if not acceptable and failures:
        acceptable = all(e.cls_name == CHECK_FAILED and s in gated for s, e in failures)
    return lines, acceptable


def latest_run_id(instance: dg.DagsterInstance) -> str:
    runs = instance.get_runs(limit=1)
    return runs[0].run_id if runs else ""


def main(argv: list[str]) -> None:
    """`--latest` prints the newest run id; `PREVIOUS_ID` summarises the run started after it."""
    with dg.DagsterInstance.get() as instance:
        latest = latest_run_id(instance)
        if argv[:1] == ["--latest"]:
            print(latest)
            return
        if not latest or latest == (argv[0] if argv else None):
            print("no new run: the materialize command failed before it started one")
            sys.exit(1)
        lines, acceptable = summarize(instance, latest)
    print("\n".join(f"run {latest[:8]}: {line}" for line in lines))
    sys.exit(0 if acceptable else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
