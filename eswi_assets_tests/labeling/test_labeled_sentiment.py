"""`labeled_sentiment` materialized through Dagster, over a stand-in `cleaned_corpus`, stored by
the IO manager of each profile (DuckDB locally, Elasticsearch in production)."""

import dagster as dg
import pandas as pd
import pytest

from eswi_assets.assets.labels import LabelingConfig, labeled_sentiment
from eswi_assets.labeling.doccano_api import DoccanoApi
from eswi_assets.profiles import build_resources
from eswi_assets.resources.doccano import DoccanoError, LabelingResource, SeedOnlyLabels
from eswi_assets.settings import Settings
from eswi_assets_tests.stores import stored_table

DAY = "2026-11-20"
BODIES = {
    "news": "政府宣布新的長照補助方案。民眾普遍表示歡迎這項政策！申請流程仍然太複雜了。",
    "forum": "這家餐廳的服務真的很好。停車位實在太少了！價格還算合理吧。週末人潮非常擁擠。",
}


@dg.asset(
    partitions_def=dg.DailyPartitionsDefinition(start_date="2026-11-01", timezone="Asia/Taipei"),
    metadata={"partition_expr": "partition_date"},
)
def cleaned_corpus(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """Stand-in with the columns `labeled_sentiment` reads."""
    return pd.DataFrame(
        {
            "partition_date": pd.Timestamp(context.partition_key),
            "doc_id": [f"{source}-1" for source in BODIES],
            "source": list(BODIES),
            "body": list(BODIES.values()),
        }
    )


class Pipeline:
    def __init__(self, settings: Settings, labeling: LabelingResource) -> None:
        self.settings = settings
        io_manager = build_resources(settings)["io_manager"]
        self.resources = {"io_manager": io_manager, "labeling": labeling}
        self.instance = dg.DagsterInstance.ephemeral()
        dg.materialize(
            [cleaned_corpus], partition_key=DAY, resources=self.resources, instance=self.instance
        )

    def label(self, push_batch_size: int = 3) -> dg.ExecuteInProcessResult:
        config = LabelingConfig(seed_per_label=40, push_batch_size=push_batch_size)
        return dg.materialize(
            [cleaned_corpus, labeled_sentiment],
            selection=[labeled_sentiment],
            resources=self.resources,
            instance=self.instance,
            run_config=dg.RunConfig(ops={"labeled_sentiment": config}),
        )

    def stored(self) -> pd.DataFrame:
        table = stored_table(self.settings, "labeled_sentiment")
        return table.sort_values("sentence_id", ignore_index=True)


def test_default_profile_builds_labeled_sentiment_from_seed_labels_alone(settings_for):
    pipeline = Pipeline(settings_for(), SeedOnlyLabels())

    result = pipeline.label()

    df = pipeline.stored()
    assert len(df) == 80 and set(df["source"]) == {"seed"}
    assert df["label"].value_counts().to_dict() == {"positive": 40, "negative": 40}
    assert all(check.passed for check in result.get_asset_check_evaluations())
    metadata = result.asset_materializations_for_node("labeled_sentiment")[0].metadata
    assert metadata["label_distribution"].value.startswith("![label distribution](data:image/png")
    assert metadata["rows_per_label"].value == {"positive": 40, "negative": 40}


def test_annotations_join_the_seed_rows_and_no_sentence_is_offered_twice(
    doccano, project_name, settings_for
):
    labeling = doccano.resource(project_name)
    pipeline = Pipeline(settings_for(), labeling)
    assert pipeline.label(push_batch_size=3).success
    project_id = doccano.add_annotators(project_name)
    first_batch = doccano.admin.examples(project_id)
    assert {e["meta"]["source"] for e in first_batch} == {"news", "forum"}  # stratified
    for _ in range(2):
        assert pipeline.label(push_batch_size=3).success
    examples = doccano.admin.examples(project_id)
    texts = [e["text"] for e in examples]
    assert len(texts) == len(set(texts)) == 7  # every usable corpus sentence, once

    annotator = doccano.annotator("annotator_a")
    annotator.label(project_id, examples[0]["id"], "negative")
    annotator.confirm(project_id, examples[0]["id"])
    result = pipeline.label()

    df = pipeline.stored()
    annotated = df[df["source"] == "doccano"]
    assert annotated[["text", "label", "annotators"]].values.tolist() == [
        [examples[0]["text"], "negative", "annotator_a"]
    ]
    assert annotated["doc_id"].iloc[0] == examples[0]["meta"]["doc_id"]
    assert len(df) == 81
    assert {c.check_name: c.passed for c in result.get_asset_check_evaluations()}["source_match"]


def test_doccano_stopped_mid_pull_fails_clearly_and_keeps_the_previous_table(
    doccano, project_name, settings_for, monkeypatch
):
    labeling = doccano.resource(project_name, concurrency=1, attempts=2, retry_wait_s=0.1)
    pipeline = Pipeline(settings_for(), labeling)
    assert pipeline.label(push_batch_size=4).success
    project_id = doccano.add_annotators(project_name)
    annotator = doccano.annotator("annotator_a")
    for example in doccano.admin.examples(project_id)[:3]:
        annotator.label(project_id, example["id"], "positive")
        annotator.confirm(project_id, example["id"])
    before = pipeline.stored()

    read_categories = DoccanoApi.categories

    def stop_after_first_example(api, project, example):
        answer = read_categories(api, project, example)
        doccano.stop()
        return answer

    monkeypatch.setattr(DoccanoApi, "categories", stop_after_first_example)
    with pytest.raises(DoccanoError, match=rf"{doccano.url}.*did not answer.*start\.sh"):
        pipeline.label()

    pd.testing.assert_frame_equal(pipeline.stored(), before)
