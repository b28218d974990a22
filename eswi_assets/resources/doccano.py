"""Where human sentiment labels come from: `LabelingResource` is the interface the asset and the
sensor name (resource key `labeling`); `DoccanoResource` talks to a doccano server, and
`SeedOnlyLabels` stands in where there is none (local profile), so no asset branches on the
environment.

The doccano project is a collaborative text-classification project: only there does an admin see
every annotator's labels over REST. "Confirmed" is per example in such a project (doccano keeps
one shared confirmation), and the pipeline reads confirmed examples only. Exclusive
(single-class) mode stays off, since in a collaborative project a new label in that mode deletes
the other annotators' labels; an annotator's newest label is their vote instead.
"""

from __future__ import annotations

import abc
import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import dagster as dg
import pandas as pd
from pydantic import Field

from eswi_assets.labeling.aggregate import ANNOTATION_COLUMNS, LABELS, empty_annotations
from eswi_assets.labeling.doccano_api import DoccanoApi, DoccanoError
from eswi_assets.labeling.sentences import sentence_id

T = TypeVar("T")
R = TypeVar("R")

__all__ = [
    "DoccanoError",
    "DoccanoResource",
    "LabelingResource",
    "PushReport",
    "SeedOnlyLabels",
]


@dataclass(frozen=True)
class PushReport:
    pushed: int
    already_there: int
    empty_skipped: int


class LabelingResource(dg.ConfigurableResource, abc.ABC):
    """A labeling backend: takes sentences to label, gives back confirmed annotations."""

    @abc.abstractmethod
    def where(self) -> str:
        """Where the labels come from, for log lines and skip reasons."""

    @abc.abstractmethod
    def pushed_sentence_ids(self) -> set[str]:
        """Ids of every sentence already offered to annotators."""

    @abc.abstractmethod
    def push(self, sentences: pd.DataFrame) -> PushReport:
        """Offer sentences (columns sentence_id, text, doc_id, source) to annotators, skipping
        those already offered and empty texts."""

    @abc.abstractmethod
    def pull_confirmed(self) -> pd.DataFrame:
        """Every label on a confirmed example, one row per annotator and label
        (`aggregate.ANNOTATION_COLUMNS`; `annotated_at` UTC, naive)."""

    @abc.abstractmethod
    def latest_confirmed_marker(self) -> str | None:
        """A short string that changes whenever the set of confirmed examples changes; None when
        nothing is confirmed. A sensor keeps it as its cursor."""


class SeedOnlyLabels(LabelingResource):
    """No labeling server: the seed set is all there is (local profile)."""

    def where(self) -> str:
        return "seed labels only (no labeling server in this profile)"

    def pushed_sentence_ids(self) -> set[str]:
        return set()

    def push(self, sentences: pd.DataFrame) -> PushReport:
        return PushReport(pushed=0, already_there=0, empty_skipped=0)

    def pull_confirmed(self) -> pd.DataFrame:
        return empty_annotations()

    def latest_confirmed_marker(self) -> str | None:
        return None


class DoccanoResource(LabelingResource):
    """A doccano 1.8.4 server, reached over its REST API with an admin account."""

    url: str = Field(description="Base URL, e.g. http://127.0.0.1:8000")
    username: str = "admin"
    password: str = Field(description='Pass dg.EnvVar("ESWI_DOCCANO_PASSWORD"), never a literal.')
    project_name: str = "eswi-sentiment"
    labels: list[str] = Field(default=list(LABELS), description="Category types to ensure.")
    concurrency: int = Field(default=8, ge=1, le=64, description="Requests in flight at once.")
    page_size: int = Field(default=1000, ge=1)
    timeout_s: float = 30.0
    attempts: int = Field(default=4, ge=1, description="Tries per request on 5xx or no answer.")
    retry_wait_s: float = Field(default=0.5, ge=0)

    def where(self) -> str:
        return f"doccano at {self.url}, project {self.project_name!r}"

    @contextmanager
    def _session(self) -> Iterator[tuple[DoccanoApi, int, dict[int, str]]]:
        """A logged-in API, the project id and its category types (id -> name), ensured to exist."""
        with DoccanoApi(
            self.url,
            self.username,
            self.password,
            timeout_s=self.timeout_s,
            attempts=self.attempts,
            retry_wait_s=self.retry_wait_s,
            page_size=self.page_size,
            max_connections=self.concurrency,
        ) as api:
            project_id = self._ensure_project(api)
            yield api, project_id, self._ensure_labels(api, project_id)

    def _ensure_project(self, api: DoccanoApi) -> int:
        settings = {"collaborative_annotation": True, "single_class_classification": False}
        project = api.find_project(self.project_name)
        if project is None:
            project = api.create_project(
                {
                    "name": self.project_name,
                    "description": "Sentence sentiment for the ESWI reward model.",
                    "guideline": "Label the sentiment the sentence expresses: "
                    + ", ".join(self.labels)
                    + ". Confirm an example once it is labeled.",
                    "project_type": "DocumentClassification",
                    "resourcetype": "TextClassificationProject",
                    **settings,
                }
            )
        elif project.get("project_type") != "DocumentClassification":
            raise DoccanoError(
                f"doccano project {self.project_name!r} at {self.url} is a "
                f"{project.get('project_type')} project; the pipeline needs a text "
                "classification project. Rename one of them or set another project name."
            )
        elif any(project.get(key) != value for key, value in settings.items()):
            api.update_project(project["id"], {"resourcetype": project["resourcetype"], **settings})
        return int(project["id"])

    def _ensure_labels(self, api: DoccanoApi, project_id: int) -> dict[int, str]:
        types = {int(t["id"]): t["text"] for t in api.category_types(project_id)}
        for label in self.labels:
            if label not in types.values():
                created = api.create_category_type(project_id, label)
                types[int(created["id"])] = created["text"]
        return types

    def pushed_sentence_ids(self) -> set[str]:
        with self._session() as (api, project_id, _):
            return {_example_sentence_id(e) for e in api.examples(project_id)}

    def push(self, sentences: pd.DataFrame) -> PushReport:
        blank = sentences["text"].fillna("").astype(str).str.strip() == ""
        wanted = sentences[~blank].drop_duplicates("sentence_id")
        with self._session() as (api, project_id, _):
            known = {_example_sentence_id(e) for e in api.examples(project_id)}
            new = wanted[~wanted["sentence_id"].isin(known)]

            def create(row: dict) -> None:
                meta = {key: row.get(key) for key in ("sentence_id", "doc_id", "source")}
                api.create_example(project_id, row["text"], meta)

            _parallel(create, _records(new), self.concurrency)
        already_there = len(wanted) - len(new)
        return PushReport(
            pushed=len(new), already_there=already_there, empty_skipped=int(blank.sum())
        )

    def pull_confirmed(self) -> pd.DataFrame:
        with self._session() as (api, project_id, label_names):
            examples = list(api.examples(project_id, confirmed=True))
            users = {int(u["id"]): u["username"] for u in api.users()}
            categories = _parallel(
                lambda e: api.categories(project_id, e["id"]), examples, self.concurrency
            )
        self._refuse_bad_examples(examples, categories, label_names)
        rows = [
            (
                _example_sentence_id(example),
                example["text"],
                label_names[int(category["label"])],
                users.get(int(category["user"]), f"user-{category['user']}"),
                category["updated_at"],
                (example.get("meta") or {}).get("doc_id"),
                int(example["id"]),
            )
            for example, example_categories in zip(examples, categories, strict=True)
            for category in example_categories
        ]
        if not rows:
            return empty_annotations()
        df = pd.DataFrame(rows, columns=ANNOTATION_COLUMNS)
        df["annotated_at"] = pd.to_datetime(df["annotated_at"], utc=True).dt.tz_localize(None)
        return df.astype(empty_annotations().dtypes)

    def _refuse_bad_examples(
        self, examples: list[dict], categories: list[list[dict]], label_names: dict[int, str]
    ) -> None:
        """Unknown labels or empty texts stop the pull with a clear error: a label the pipeline
        does not know would be silently dropped or mis-trained on."""
        empty = [e["id"] for e in examples if not (e.get("text") or "").strip()]
        unknown = sorted(
            {
                label_names.get(int(c["label"]), f"category type {c['label']}")
                for cs in categories
                for c in cs
                if label_names.get(int(c["label"])) not in self.labels
            }
        )
        if empty:
            raise DoccanoError(
                f"{self.where()}: confirmed examples {empty[:20]} have no text. Delete them in "
                "doccano (or give them their sentence back) and run again."
            )
        if unknown:
            raise DoccanoError(
                f"{self.where()}: annotators used labels {unknown} that the pipeline does not know "
                f"(it knows {self.labels}). Relabel those examples in doccano and delete the "
                "category type, or add the label to the labeling resource's `labels`."
            )

    def latest_confirmed_marker(self) -> str | None:
        with self._session() as (api, project_id, _):
            ids = sorted(int(e["id"]) for e in api.examples(project_id, confirmed=True))
        if not ids:
            return None
        digest = hashlib.sha1(json.dumps(ids).encode()).hexdigest()[:12]
        return f"{len(ids)}-{digest}"


def _example_sentence_id(example: dict) -> str:
    """Our sentence id from the example's meta; an example added by hand: the sha1 of its text."""
    meta = example.get("meta") or {}
    return str(meta.get("sentence_id") or sentence_id(example.get("text") or ""))


def _records(df: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in df.to_dict(orient="records")
    ]


def _parallel(fn: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """`fn` over `items` on `workers` threads, in order; the first error cancels what has not
    started (so a server that went away fails the call in seconds, not one timeout per item)."""
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(fn, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
