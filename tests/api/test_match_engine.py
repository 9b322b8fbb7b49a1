"""``match_identities`` (the API's $match) ranks, scores and grades as the dashboard's search does.

The demo warehouse (sample hospital, duplicates found); queries are real patients' traits, some
with a typing error or only the first letters of the name, so that prefix levels occur.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.access.roles import Actor
from analytics.identity.search import match_identities, search_identities
from analytics.warehouse import connect
from analytics.warehouse.connection import copy_warehouse

ANALYST = Actor("analyst", "analyst", via="api")


@pytest.fixture(scope="module")
def demo(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("match-engine") / "hygie.duckdb"
    copy_warehouse(demo_template, db)
    con = connect(db)
    yield con
    con.close()


def _queries(con) -> list[dict[str, object]]:
    rows = con.execute("""SELECT birth_name, first_names, birth_date, sex, birth_place_code, ins FROM patients
                          WHERE active AND birth_name IS NOT NULL AND first_names IS NOT NULL
                          ORDER BY patient_id LIMIT 12""").fetchall()
    out: list[dict[str, object]] = []
    for k, (name, first, birth, sex, place, ins) in enumerate(rows):
        if k % 3 == 1:
            name = name[:-2] + name[-1] + name[-2]  # last two letters swapped
        if k % 3 == 2:
            name, first, ins = name[:3], None, None  # the first letters of the name and a birth date
        out.append({"birth_name": name, "first_names": first, "birth_date": birth, "sex": sex,
                    "birth_place": place, "ins": ins})
    return out


def test_match_identities_gives_the_search_results_without_explanations(demo):
    levels_seen: set[str] = set()
    for traits in _queries(demo):
        searched = search_identities(demo, ANALYST, limit=15, **traits)
        matched = match_identities(demo, ANALYST, limit=15, **traits)
        assert [m["patient_id"] for m in matched] == searched["patient_id"].tolist(), traits
        assert [m["score"] for m in matched] == pytest.approx(searched["score"].tolist()), traits
        assert [m["decision"] for m in matched] == searched["decision"].tolist(), traits
        level_columns = [c for c in searched.columns if c.startswith("level_")]
        assert len(level_columns) >= 9
        for column in level_columns:
            assert [m[column] for m in matched] == searched[column].tolist(), (traits, column)
            levels_seen.update(searched[column])
        for column in ("birth_name", "first_names", "sex", "birth_place_code"):
            assert [m[column] for m in matched] == [None if v != v else v for v in searched[column]], column
        assert "explanation" not in (matched[0] if matched else {})
    assert {"exact", "prefix"} <= levels_seen


def test_match_identities_checks_the_role_and_logs_the_access(demo):
    from analytics.errors import AccessDenied

    with pytest.raises(AccessDenied):
        match_identities(demo, Actor("v", "viewer", via="api"), birth_name="MARTIN", first_names="MARIE")
    before = demo.execute("SELECT count(*) FROM access_log WHERE object = 'search_identities'").fetchone()[0]
    found = match_identities(demo, ANALYST, limit=3, **_queries(demo)[0])
    after = demo.execute("""SELECT count(*), max_by(row_count, log_id) FROM access_log
                            WHERE object = 'search_identities'""").fetchone()
    assert after == (before + 1, len(found))
