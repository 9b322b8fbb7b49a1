"""Identities matched on arrival extend the in-memory search index instead of rebuilding it.

On a copy of the demo warehouse: the index is built, new patients arrive and are matched
incrementally (as ``hygie import`` does), and the index the next search uses must equal one
rebuilt from scratch, and find the newcomer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.access.roles import Actor
from analytics.identity import match_new_patients
from analytics.identity import search_index as si
from analytics.identity.search import match_identities
from analytics.warehouse import connect
from analytics.warehouse.connection import copy_warehouse

ADMIN = Actor("root", "admin", via="cli")


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path):
    db = tmp_path / "hygie.duckdb"
    copy_warehouse(demo_template, db)
    con = connect(db)
    yield con
    con.close()


def _values(column) -> list[object]:
    return [None if v is None or v != v else v for v in column.astype(object).tolist()]


def _pairs(index: si.SearchIndex) -> set[tuple[int, int]]:
    """(key hash, rid) pairs: what the binary search finds, whatever the order of equal keys."""
    rid = index.rows["rid"].to_numpy(dtype=np.int64)
    return set(zip(index.keys.tolist(), rid[index.key_pos].tolist(), strict=True))


def test_arrivals_are_merged_into_the_index_as_a_rebuild_would_load_them(demo):
    before = si.get_search_index(demo)
    # two arrivals: a known patient typed again under a new IPP (a duplicate born at the desk), and a stranger
    demo.execute("""INSERT INTO patients BY NAME
                    SELECT * REPLACE ('NEW-1' AS patient_id) FROM patients
                    WHERE active AND birth_name IS NOT NULL ORDER BY patient_id LIMIT 1""")
    demo.execute("""INSERT INTO patients BY NAME
                    SELECT * REPLACE ('NEW-2' AS patient_id, 'ZYXWVUT' AS birth_name) FROM patients
                    WHERE active AND birth_name IS NOT NULL ORDER BY patient_id LIMIT 1 OFFSET 5""")
    match_new_patients(demo, actor=ADMIN)
    key = si._cache_key(demo)
    assert si._only_appended(demo, before, key), "an incremental run only appends rows"
    extended = si.get_search_index(demo)
    assert extended is not before and len(extended.rows) == len(before.rows) + 2

    si._CACHE.clear()
    rebuilt = si.get_search_index(demo)
    assert extended.key == rebuilt.key
    for mine, theirs in ((extended.rows, rebuilt.rows), (extended.originals, rebuilt.originals)):
        assert list(mine.columns) == list(theirs.columns)
        for column in mine.columns:
            assert _values(mine[column]) == _values(theirs[column]), column
    assert extended.table.to_pylist() == rebuilt.table.to_pylist()
    assert extended.originals_table.to_pylist() == rebuilt.originals_table.to_pylist()
    assert _pairs(extended) == _pairs(rebuilt)
    assert extended.tf_total == rebuilt.tf_total
    for field, counts in rebuilt.tf_counts.items():
        assert extended.tf_counts[field].sort_index().to_dict() == counts.sort_index().to_dict(), field

    si._CACHE[key[0]] = extended  # the extended index answers the desk
    stranger = demo.execute("""SELECT first_names, birth_date, sex FROM patients WHERE patient_id = 'NEW-2'""").fetchone()
    found = match_identities(demo, ADMIN, birth_name="ZYXWVUT", first_names=stranger[0], birth_date=stranger[1],
                             sex=stranger[2], limit=3)
    assert found and found[0]["patient_id"] == "NEW-2"


def test_a_full_run_rebuilds_the_index(demo):
    from analytics.identity import find_duplicates

    before = si.get_search_index(demo)
    find_duplicates(demo, actor=ADMIN)
    assert not si._only_appended(demo, before, si._cache_key(demo))
