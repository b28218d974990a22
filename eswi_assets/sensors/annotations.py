"""New confirmed annotations in doccano rematerialize `labeled_sentiment`.

The cursor is the labeling resource's confirmed-examples marker; a new marker is a new batch, and
the marker is also the run_key, so the same batch never launches two runs.
"""

from __future__ import annotations

import dagster as dg

from eswi_assets.keys import LABELED_SENTIMENT
from eswi_assets.resources.doccano import DoccanoError, LabelingResource


@dg.sensor(
    target=dg.AssetSelection.assets(LABELED_SENTIMENT),
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def doccano_annotations_sensor(
    context: dg.SensorEvaluationContext, labeling: LabelingResource
) -> dg.SensorResult | dg.SkipReason:
    """Requests `labeled_sentiment` when the set of confirmed doccano examples changes."""
    try:
        marker = labeling.latest_confirmed_marker()
    except DoccanoError as error:
        return dg.SkipReason(f"could not ask {labeling.where()} for annotations: {error}")
    if marker is None:
        return dg.SkipReason(f"no confirmed annotations in {labeling.where()}")
    if marker == context.cursor:
        return dg.SkipReason(f"no new confirmed annotations in {labeling.where()} ({marker})")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"confirmed-{marker}")],
        cursor=marker,
    )
