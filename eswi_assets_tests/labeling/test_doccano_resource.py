"""`DoccanoResource` against a real doccano (see conftest.py)."""

import httpx
import pandas as pd
import pytest

from eswi_assets.labeling.aggregate import majority_vote
from eswi_assets.labeling.doccano_api import DoccanoApi
from eswi_assets.labeling.sentences import sentence_id
from eswi_assets.resources.doccano import DoccanoError

TEXTS = ["這家餐廳的服務真的很好。", "停車位實在太少了！", "今天的天氣普普通通。"]


def sentences(texts: list[str] = TEXTS) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sentence_id": [sentence_id(t) for t in texts],
            "text": texts,
            "doc_id": [f"doc{i}" for i in range(len(texts))],
            "source": "news",
        }
    )


def examples_by_text(doccano, project_name: str) -> dict[str, dict]:
    project_id = doccano.admin.project_id(project_name)
    return {e["text"]: e for e in doccano.admin.examples(project_id)}


def test_pushing_twice_creates_no_duplicates_and_skips_empty_texts(doccano, project_name):
    labeling = doccano.resource(project_name)
    batch = pd.concat([sentences(), sentences(["", "   "])], ignore_index=True)

    first = labeling.push(batch)
    second = labeling.push(batch)

    assert (first.pushed, first.empty_skipped) == (3, 2)
    assert (second.pushed, second.already_there) == (0, 3)
    stored = examples_by_text(doccano, project_name)
    assert sorted(stored) == sorted(TEXTS)
    assert {e["meta"]["sentence_id"] for e in stored.values()} == set(sentences()["sentence_id"])
    assert labeling.pushed_sentence_ids() == set(sentences()["sentence_id"])


def test_project_set_up_is_idempotent_and_collaborative(doccano, project_name):
    labeling = doccano.resource(project_name)
    labeling.push(sentences())
    labeling.push(sentences())
    admin = doccano.admin
    projects = admin.call("GET", "/v1/projects", params={"q": project_name})["results"]
    assert [p["collaborative_annotation"] for p in projects] == [True]
    types = admin.call("GET", f"/v1/projects/{projects[0]['id']}/category-types")
    assert sorted(t["text"] for t in types) == ["negative", "neutral", "positive"]


def test_two_annotators_labels_come_back_with_their_names_and_the_majority(doccano, project_name):
    labeling = doccano.resource(project_name)
    labeling.push(sentences())
    project_id = doccano.add_annotators(project_name)
    a, b, admin = doccano.annotator("annotator_a"), doccano.annotator("annotator_b"), doccano.admin
    good, bad, dull = (examples_by_text(doccano, project_name)[t]["id"] for t in TEXTS)
    for who, label in ((a, "positive"), (b, "positive"), (admin, "negative")):
        who.label(project_id, good, label)
    for who in (a, b):
        who.label(project_id, bad, "negative")
    a.label(project_id, dull, "neutral")  # labeled but never confirmed: not pulled
    a.confirm(project_id, good)
    b.confirm(project_id, good)  # already confirmed: must not toggle it back
    b.confirm(project_id, bad)

    annotations = labeling.pull_confirmed()

    assert sorted(annotations["annotator"]) == [
        "admin",
        "annotator_a",
        "annotator_a",
        "annotator_b",
        "annotator_b",
    ]
    voted = majority_vote(annotations).set_index("text")
    assert voted.loc[TEXTS[0], ["label", "annotators", "n_annotations"]].tolist() == [
        "positive",
        "admin,annotator_a,annotator_b",
        3,
    ]
    assert voted.loc[TEXTS[1], "label"] == "negative"
    assert TEXTS[2] not in voted.index
    assert voted.loc[TEXTS[0], "doc_id"] == "doc0"


def test_an_unknown_label_from_doccano_stops_the_pull_with_its_name(doccano, project_name):
    labeling = doccano.resource(project_name)
    labeling.push(sentences())
    project_id = doccano.add_annotators(project_name)
    doccano.admin.call("POST", f"/v1/projects/{project_id}/category-types", json={"text": "mixed"})
    example = examples_by_text(doccano, project_name)[TEXTS[0]]["id"]
    annotator = doccano.annotator("annotator_a")
    annotator.label(project_id, example, "mixed")
    annotator.confirm(project_id, example)

    with pytest.raises(DoccanoError, match=r"labels \['mixed'\]"):
        labeling.pull_confirmed()


def test_a_confirmed_example_without_text_stops_the_pull(doccano, project_name):
    labeling = doccano.resource(project_name)
    labeling.push(sentences())
    project_id = doccano.add_annotators(project_name)
    empty = doccano.admin.call(
        "POST", f"/v1/projects/{project_id}/examples", json={"text": "", "meta": {}}
    )
    doccano.annotator("annotator_a").confirm(project_id, empty["id"])

    with pytest.raises(DoccanoError, match="have no text"):
        labeling.pull_confirmed()


def test_an_expired_token_is_replaced_without_the_caller_noticing(doccano, project_name):
    api = DoccanoApi(doccano.url, "admin", doccano.admin_password)
    old = api.login()
    httpx.post(f"{doccano.url}/v1/auth/logout/", headers={"Authorization": f"Token {old}"})
    stale = httpx.get(f"{doccano.url}/v1/me", headers={"Authorization": f"Token {old}"})
    assert stale.status_code in (401, 403)

    assert api.get("/v1/me")["username"] == "admin"


def test_the_marker_changes_only_when_the_confirmed_set_changes(doccano, project_name):
    labeling = doccano.resource(project_name)
    labeling.push(sentences())
    project_id = doccano.add_annotators(project_name)
    annotator = doccano.annotator("annotator_a")
    ids = [examples_by_text(doccano, project_name)[t]["id"] for t in TEXTS]
    assert labeling.latest_confirmed_marker() is None

    annotator.label(project_id, ids[0], "positive")
    annotator.confirm(project_id, ids[0])
    first = labeling.latest_confirmed_marker()
    assert first is not None and labeling.latest_confirmed_marker() == first

    annotator.confirm(project_id, ids[1])
    assert labeling.latest_confirmed_marker() not in (None, first)


def test_an_existing_exclusive_project_is_switched_to_collaborative_multi_label(
    doccano, project_name
):
    """Exclusive mode in a collaborative project would let each label delete everyone else's."""
    created = doccano.admin.call(
        "POST",
        "/v1/projects",
        json={
            "name": project_name,
            "description": "made by hand",
            "project_type": "DocumentClassification",
            "resourcetype": "TextClassificationProject",
            "single_class_classification": True,
        },
    )
    doccano.resource(project_name).push(sentences())
    project = doccano.admin.call("GET", f"/v1/projects/{created['id']}")
    assert (project["collaborative_annotation"], project["single_class_classification"]) == (
        True,
        False,
    )
