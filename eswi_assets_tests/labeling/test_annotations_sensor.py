"""The doccano sensor against a real doccano and a real DagsterInstance."""

import socket

import dagster as dg
import pandas as pd

from eswi_assets.labeling.sentences import sentence_id
from eswi_assets.resources.doccano import DoccanoResource, LabelingResource, SeedOnlyLabels
from eswi_assets.sensors.annotations import doccano_annotations_sensor

TEXTS = ["這家餐廳的服務真的很好。", "停車位實在太少了！"]


def tick(labeling: LabelingResource, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), cursor=cursor, resources={"labeling": labeling}
    )
    return doccano_annotations_sensor(context)


def test_sensor_fires_once_per_new_batch_of_confirmed_annotations_and_skips_otherwise(
    doccano, project_name
):
    labeling = doccano.resource(project_name)
    labeling.push(pd.DataFrame({"sentence_id": map(sentence_id, TEXTS), "text": TEXTS}))
    project_id = doccano.add_annotators(project_name)
    first, second = (e["id"] for e in doccano.admin.examples(project_id))
    annotator = doccano.annotator("annotator_a")

    nothing = tick(labeling, None)
    assert isinstance(nothing, dg.SkipReason) and "no confirmed annotations" in nothing.skip_message

    annotator.label(project_id, first, "positive")
    annotator.confirm(project_id, first)
    fired = tick(labeling, None)
    assert [r.run_key for r in fired.run_requests] == [f"confirmed-{fired.cursor}"]

    again = tick(labeling, fired.cursor)
    assert isinstance(again, dg.SkipReason) and "no new confirmed" in again.skip_message

    annotator.label(project_id, second, "negative")
    annotator.confirm(project_id, second)
    next_batch = tick(labeling, fired.cursor)
    assert len(next_batch.run_requests) == 1
    assert next_batch.cursor != fired.cursor
    assert next_batch.run_requests[0].run_key != fired.run_requests[0].run_key


def test_sensor_skips_and_says_why_when_doccano_is_down():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = DoccanoResource(url=f"http://127.0.0.1:{port}", password="x", attempts=1)
    result = tick(down, "3-abc")
    assert isinstance(result, dg.SkipReason)
    assert f"127.0.0.1:{port}" in result.skip_message and "did not answer" in result.skip_message


def test_sensor_skips_where_there_is_no_labeling_server():
    result = tick(SeedOnlyLabels(), None)
    assert isinstance(result, dg.SkipReason) and "seed labels only" in result.skip_message
