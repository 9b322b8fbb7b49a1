"""Four-eyes review: a "same person" needs a second account before a merge may use it."""

from __future__ import annotations

import pytest

from analytics import jobs
from analytics.access.roles import Actor
from analytics.errors import AccessDenied, InvalidInput
from analytics.identity import four_eyes, record_review, review_page, set_four_eyes
from tests.analytics.identity.conftest import MANAGER, insert_patients, person

ADMIN = Actor("root", "admin")
OTHER = Actor("paul.second", "manager")


@pytest.fixture
def pair_con(con):
    insert_patients(con, [person("P1", birth_name="ARNAUD"), person("P2", birth_name="ARNAUT"),
                          person("P3", birth_name="COLIN"), person("P4", birth_name="COLLIN")])
    con.executemany(
        "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision) "
        "VALUES ('r1', ?, ?, 0.8, 0.0, 'review')", [("P1", "P2"), ("P3", "P4")])
    return con


def _on(con, value: str = "on") -> None:
    con.execute("INSERT INTO settings VALUES ('review.four_eyes', ?, now(), 'admin')", [value])


def _merged(con) -> int:
    return jobs.preview(con, ADMIN, "merge-identities").counts["groups merged"]


def _latest(con) -> list[tuple]:
    return con.execute("SELECT decision, reviewer FROM pair_reviews WHERE patient_id_1 = 'P1' "
                       "ORDER BY decided_at").fetchall()


def test_without_the_setting_one_reviewer_decides(pair_con):
    assert not four_eyes(pair_con)
    assert record_review(pair_con, MANAGER, "P1", "P2", "same") == "same"
    assert _merged(pair_con) == 1


def test_a_first_same_person_waits_for_another_account(pair_con):
    _on(pair_con)
    assert record_review(pair_con, MANAGER, "P2", "P1", "same") == "same_pending"
    assert _merged(pair_con) == 0  # the merge job cannot use it yet
    assert pair_con.execute("SELECT decision FROM match_pairs WHERE patient_id_1 = 'P1'").fetchone()[0] == "review"
    with pytest.raises(InvalidInput, match="^four-eyes review: marie.curie already said 'same person' on P1/P2; "
                                           "another reviewer must confirm$"):
        record_review(pair_con, MANAGER, "P1", "P2", "same")
    mine = review_page(pair_con, MANAGER)
    theirs = review_page(pair_con, OTHER)
    assert list(mine.rows["patient_id_1"]) == ["P3"]  # not in the first reviewer's own queue
    assert list(theirs.rows["patient_id_1"]) == ["P1", "P3"]
    assert theirs.rows.set_index("patient_id_1").loc["P1", "awaiting_second"] == "marie.curie"
    assert record_review(pair_con, OTHER, "P1", "P2", "same") == "same"
    assert _latest(pair_con) == [("same_pending", "marie.curie"), ("same", "paul.second")]
    assert _merged(pair_con) == 1
    assert list(review_page(pair_con, OTHER).rows["patient_id_1"]) == ["P3"]


def test_a_second_opinion_may_disagree(pair_con):
    _on(pair_con)
    record_review(pair_con, MANAGER, "P1", "P2", "same")
    assert record_review(pair_con, OTHER, "P1", "P2", "not_same") == "not_same"
    assert _merged(pair_con) == 0
    # a later "same" starts the four eyes again
    assert record_review(pair_con, MANAGER, "P1", "P2", "same") == "same_pending"


@pytest.mark.parametrize(("value", "on"), [("on", True), ("oui", True), ("1", True), ("off", False), ("", False)])
def test_the_setting_values(con, value, on):
    _on(con, value)
    assert four_eyes(con) is on


def test_a_bad_setting_is_refused(con):
    _on(con, "maybe")
    with pytest.raises(InvalidInput, match="^setting review.four_eyes: 'maybe' is not on or off$"):
        four_eyes(con)


def test_an_administrator_turns_it_on_and_off_traced(pair_con):
    """The setting has its control (admin page): an administrator's change, stored and traced."""
    _on(pair_con, "maybe")  # a value four_eyes() refuses can be replaced
    set_four_eyes(pair_con, ADMIN, True)
    assert four_eyes(pair_con)
    assert record_review(pair_con, MANAGER, "P1", "P2", "same") == "same_pending"
    set_four_eyes(pair_con, ADMIN, False)
    assert not four_eyes(pair_con)
    assert pair_con.execute("SELECT value, updated_by FROM settings WHERE key = 'review.four_eyes'").fetchall() == [
        ("off", "root")]
    log = pair_con.execute("SELECT actor, action, object, detail->>'key', detail->>'before', detail->>'after' "
                           "FROM access_log WHERE action = 'settings_change' ORDER BY log_id").fetchall()
    assert log == [("root", "settings_change", "settings", "review.four_eyes", "maybe", "on"),
                   ("root", "settings_change", "settings", "review.four_eyes", "on", "off")]


@pytest.mark.parametrize("role", ["manager", "identitovigilance", "analyst", "viewer"])
def test_only_an_administrator_changes_it(pair_con, role):
    with pytest.raises(AccessDenied):
        set_four_eyes(pair_con, Actor("someone", role), True)
    assert not four_eyes(pair_con)
    assert pair_con.execute("SELECT count(*) FROM access_log WHERE action = 'settings_change'").fetchone() == (0,)
