"""The review queue page: filters, sorts, paging and counts in DuckDB; decisions apply at once."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.access.roles import Actor
from analytics.errors import AccessDenied, InvalidInput
from analytics.identity import (
    QueueFilters,
    duplicate_rate,
    queue_base,
    queue_version,
    record_review,
    review_page,
    review_queue,
)
from analytics.warehouse import connect
from tests.analytics.identity.conftest import ANALYST, MANAGER, VIEWER, insert_patients, person

NOW = pd.Timestamp.now(tz="UTC")

# patient -> (identity status, days since the record was created)
PATIENTS = {
    "P1": ("PROV", 3), "P2": ("VALI", 400), "P3": ("QUAL", 20), "P4": ("PROV", 800),
    "P5": ("PROV", 900), "P6": ("RECUP", 2), "P7": ("VALI", 1000), "P8": ("PROV", 50),
}
# patient -> services of its documents (most frequent first; ties go to the first by name)
DOCUMENTS = {
    "P1": ["Urgences", "Urgences", "Cardiologie"], "P2": ["Pédiatrie"],
    "P3": ["Neurologie", "Cardiologie"], "P5": ["Maternité"], "P8": ["Gériatrie"],
}
# (patient_id_1, patient_id_2, score, decision, auto_merge): the match is a clean one, eligible
# for automatic merge (a match that is not waits for a reviewer: see the test of such a pair)
PAIRS = [
    ("P1", "P2", 0.95, "review", False),
    ("P3", "P4", 0.80, "review", False),
    ("P4", "P5", 0.60, "review", False),
    ("P6", "P7", 0.40, "review", False),
    ("P1", "P8", 0.99, "match", True),
    ("P2", "P3", 0.05, "non-match", False),
]


def _fill(con) -> None:
    names = {"P1": "ARNAUD", "P2": "ARNAUT", "P3": "BLANC", "P4": "BLANCK", "P5": "BLANQ",
             "P6": "COLIN", "P7": "COLLIN", "P8": "AUBERT"}
    insert_patients(con, [person(pid, birth_name=names[pid], identity_status=status)
                          for pid, (status, _) in PATIENTS.items()])
    for pid, (_, days) in PATIENTS.items():
        con.execute("UPDATE patients SET created_at = ? WHERE patient_id = ?", [NOW - pd.Timedelta(days=days), pid])
    con.executemany(
        "INSERT INTO documents (document_id, patient_id, service) VALUES (?, ?, ?)",
        [(f"{pid}-{i}", pid, service) for pid, services in DOCUMENTS.items() for i, service in enumerate(services)])
    con.executemany(
        "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision, auto_merge) "
        "VALUES ('r1', ?, ?, ?, 0.0, ?, ?)", PAIRS)


@pytest.fixture
def queue_con(con):
    """A queue of its own, for tests that decide pairs or add runs."""
    _fill(con)
    return con


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One filled warehouse for the read-only cases (they only add access-log rows)."""
    connection = connect(tmp_path_factory.mktemp("queue") / "hygie.duckdb")
    _fill(connection)
    yield connection
    connection.close()


def _pairs(page) -> list[str]:
    return [f"{a}-{b}" for a, b in zip(page.rows["patient_id_1"], page.rows["patient_id_2"], strict=True)]


FILTER_CASES = [
    ("no filter: review pairs, best score first", QueueFilters(), "score_desc", ["P1-P2", "P3-P4", "P4-P5", "P6-P7"]),
    ("lowest score first", QueueFilters(), "score_asc", ["P6-P7", "P4-P5", "P3-P4", "P1-P2"]),
    ("score range is inclusive", QueueFilters(0.6, 0.8), "score_desc", ["P3-P4", "P4-P5"]),
    ("service of record 1 (its most frequent)", QueueFilters(services=("Urgences",)), "score_desc", ["P1-P2"]),
    ("record 1 has no document: record 2's service", QueueFilters(services=("Maternité",)), "score_desc",
     ["P4-P5"]),
    ("ties between services go to the first by name", QueueFilters(services=("Cardiologie",)), "score_desc",
     ["P3-P4"]),
    ("no service on either side matches no service filter", QueueFilters(services=("Pédiatrie",)),
     "score_desc", []),
    ("status on either side", QueueFilters(statuses=("QUAL", "RECUP")), "score_desc", ["P3-P4", "P6-P7"]),
    ("newest record within 30 days", QueueFilters(newer_than_days=30), "score_desc", ["P1-P2", "P3-P4", "P6-P7"]),
    ("newest record first", QueueFilters(), "newest", ["P6-P7", "P1-P2", "P3-P4", "P4-P5"]),
    ("by birth name of record 1", QueueFilters(), "name", ["P1-P2", "P3-P4", "P4-P5", "P6-P7"]),
    ("filters combine", QueueFilters(0.5, 1.0, (), 30, ("VALI",)), "score_desc", ["P1-P2"]),
]


@pytest.mark.parametrize(("description", "filters", "order", "expected"), FILTER_CASES,
                         ids=[c[0] for c in FILTER_CASES])
def test_filters_and_orders(shared, description, filters, order, expected):
    fresh = review_page(shared, MANAGER, filters=filters, order=order, limit=10)
    assert _pairs(fresh) == expected, description
    assert (fresh.total, fresh.pending) == (len(expected), 4)
    kept = review_page(shared, MANAGER, filters=filters, order=order, limit=10, base=queue_base(shared, MANAGER))
    pd.testing.assert_frame_equal(kept.rows, fresh.rows)


def test_page_columns_and_choices(shared):
    page = review_page(shared, MANAGER, limit=1)
    row = page.rows.iloc[0]
    assert (row["patient_id_1"], row["birth_name_1"], row["birth_name_2"], row["status_1"], row["status_2"],
            row["service"]) == ("P1", "ARNAUD", "ARNAUT", "PROV", "VALI", "Urgences")
    assert row["newest_record"] == row["created_at_1"]  # P1 (3 days) is newer than P2 (400 days)
    assert page.services == ["Cardiologie", "Maternité", "Urgences"]  # over the pending pairs
    assert page.statuses == ["PROV", "QUAL", "RECUP", "VALI"]
    assert list(review_queue(shared, MANAGER).columns) == [
        c for c in page.rows.columns if c not in ("created_at_1", "created_at_2", "service", "newest_record")]


def test_an_analyst_gets_ids_and_levels_without_identities(shared):
    """Identities go to the roles that review and merge (VIEW_IDENTITIES), not to analysts."""
    row = review_page(shared, ANALYST, limit=1).rows.iloc[0]
    assert (row["patient_id_1"], row["status_1"], row["service"]) == ("P1", "PROV", "Urgences")
    assert row["level_birth_name"] == review_page(shared, MANAGER, limit=1).rows.iloc[0]["level_birth_name"]
    for column in ("birth_name_1", "birth_name_2", "first_names_1", "birth_date_1", "birth_place_1"):
        assert pd.isna(row[column]), column
    assert review_queue(shared, ANALYST)["birth_name_1"].isna().all()


@pytest.mark.parametrize(("limit", "offset", "expected"), [
    (2, 0, ["P1-P2", "P3-P4"]), (2, 2, ["P4-P5", "P6-P7"]), (3, 3, ["P6-P7"]), (2, 10, []),
])
def test_paging_keeps_the_counts(shared, limit, offset, expected):
    page = review_page(shared, MANAGER, limit=limit, offset=offset)
    assert _pairs(page) == expected
    assert (page.total, page.pending) == (4, 4)


def test_matches_included_on_request(shared):
    page = review_page(shared, MANAGER, include_matches=True)
    assert _pairs(page)[0] == "P1-P8"
    assert page.pending == 5
    with pytest.raises(InvalidInput, match="^review_page: the base was read with another include_matches$"):
        review_page(shared, MANAGER, include_matches=True, base=queue_base(shared, MANAGER))


def test_skipped_pairs_leave_the_page_and_the_count(shared):
    page = review_page(shared, MANAGER, skip=[("P2", "P1"), ("P6", "P7")])  # either order
    assert _pairs(page) == ["P3-P4", "P4-P5"]
    assert page.pending == 2


HELD_CASES = [
    ("a birth place and an INS that differ", ("exact", "exact", "exact", "exact", "close", "traits_differ"),
     "birth_place ins"),
    ("a birth name with a particle dropped", ("particle", "exact", "exact", "exact", "exact", "missing"),
     "birth_name"),
    ("a compound first name reduced, a day typo", ("exact", "compound", "typo", "exact", "exact", "exact"),
     "first_name birth_date"),
    ("a run older than the auto_merge column, levels all exact", ("exact",) * 5 + ("exact",), ""),
]


@pytest.mark.parametrize(("description", "levels", "held_by"), HELD_CASES, ids=[c[0] for c in HELD_CASES])
def test_a_match_no_automatic_merge_may_take_waits_for_a_reviewer(queue_con, description, levels, held_by):
    """Issue 11 (RNIV): a pair decided ``match`` by its score that may not be merged without a
    person checking it is in the default queue and counted as pending (overview, report) with why,
    until a reviewer decides; before, nobody saw it and the merge job never merged it."""
    auto = None if held_by == "" else False
    queue_con.execute(
        "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision, "
        "auto_merge, birth_name, first_name, birth_date, sex, birth_place, ins) "
        "VALUES ('r1', 'P5', 'P7', 0.97, 9.0, 'match', ?, ?, ?, ?, ?, ?, ?)", [auto, *levels])
    page = review_page(queue_con, MANAGER)
    assert _pairs(page) == ["P5-P7", "P1-P2", "P3-P4", "P4-P5", "P6-P7"], description
    assert (page.total, page.pending, duplicate_rate(queue_con, VIEWER).pending_reviews) == (5, 5, 5)
    assert page.rows["held_by"].tolist() == [held_by, None, None, None, None], description
    assert review_page(queue_con, MANAGER, base=queue_base(queue_con, MANAGER)).rows["held_by"].iloc[0] == held_by
    matches = review_page(queue_con, MANAGER, include_matches=True)
    assert _pairs(matches)[:2] == ["P1-P8", "P5-P7"] and matches.pending == 6
    assert matches.rows["held_by"].iloc[:2].tolist() == [None, held_by]  # P1-P8 is eligible
    record_review(queue_con, MANAGER, "P5", "P7", "same")
    page = review_page(queue_con, MANAGER)
    assert "P5-P7" not in _pairs(page)
    assert (page.pending, duplicate_rate(queue_con, VIEWER).pending_reviews) == (4, 4)


DECISION_CASES = [
    ("not the same person leaves at once", ["not_same"], False),
    ("same person leaves at once", ["same"], False),
    ("unsure stays for other reviewers", ["unsure"], True),
    ("same, then unsure: the pair is a match now, not a review", ["same", "unsure"], False),
]


@pytest.mark.parametrize(("description", "decisions", "stays"), DECISION_CASES, ids=[c[0] for c in DECISION_CASES])
def test_a_decision_changes_the_queue_at_once(queue_con, description, decisions, stays):
    base = queue_base(queue_con, MANAGER)
    before = queue_version(queue_con)
    for decision in decisions:
        record_review(queue_con, MANAGER, "P3", "P4", decision)
    assert queue_version(queue_con) == before  # the kept base stays usable
    kept = review_page(queue_con, MANAGER, base=base)
    fresh = review_page(queue_con, MANAGER)
    assert ("P3-P4" in _pairs(kept)) is stays, description
    assert _pairs(kept) == _pairs(fresh)
    assert kept.pending == fresh.pending == (4 if stays else 3)


def test_queue_version_follows_runs_imports_and_jobs(queue_con):
    seen = {queue_version(queue_con)}
    queue_con.execute("INSERT INTO match_runs (match_run_id, started_at, threshold_match, threshold_review) "
                      "VALUES ('r2', now(), 0.9, 0.5)")
    seen.add(queue_version(queue_con))
    queue_con.execute("INSERT INTO imports (import_id, table_name, file_name, status, actor, started_at) "
                      "VALUES ('i1', 'patients', 'p.csv', 'loaded', 'test', now())")
    seen.add(queue_version(queue_con))
    queue_con.execute("INSERT INTO job_runs (run_id, job, actor, status, started_at) "
                      "VALUES ('j1', 'merge', 'test', 'succeeded', now())")
    seen.add(queue_version(queue_con))
    assert len(seen) == 4


def test_the_view_is_recorded_with_its_filters(queue_con):
    review_page(queue_con, ANALYST, filters=QueueFilters(0.5, 1.0, ("Urgences",)), order="name", limit=5)
    row = queue_con.execute(
        "SELECT actor, action, object, row_count, detail->>'order', detail->'services' FROM access_log "
        "WHERE object = 'review_queue'").fetchall()
    assert row == [("ada.analyst", "view", "review_queue", 1, "name", '["Urgences"]')]


BAD_CALLS = [
    ("unknown order", dict(order="random"),
     "order: 'random' is not one of score_desc, score_asc, newest, name"),
    ("zero limit", dict(limit=0), "limit (0) must be at least 1 and offset (0) not negative"),
    ("negative offset", dict(offset=-1), "limit (25) must be at least 1 and offset (-1) not negative"),
    ("score range upside down", dict(filters=QueueFilters(0.8, 0.2)),
     "score range 0.8–0.2 must lie within 0–1, lowest first"),
    ("score above 1", dict(filters=QueueFilters(0.5, 1.5)), "score range 0.5–1.5 must lie within 0–1, lowest first"),
    ("negative age", dict(filters=QueueFilters(newer_than_days=-3)), "newer_than_days (-3) must not be negative"),
]


@pytest.mark.parametrize(("description", "kwargs", "message"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_requests_are_refused(shared, description, kwargs, message):
    with pytest.raises(InvalidInput) as err:
        review_page(shared, MANAGER, **kwargs)
    assert str(err.value) == message, description


@pytest.mark.parametrize("call", [
    lambda c, a: review_page(c, a), lambda c, a: queue_base(c, a),
], ids=["review_page", "queue_base"])
def test_a_viewer_sees_no_pair(shared, call):
    with pytest.raises(AccessDenied):
        call(shared, VIEWER)
    with pytest.raises(AccessDenied):
        call(shared, Actor("nobody", "viewer"))
