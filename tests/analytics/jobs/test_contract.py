"""The promises every job keeps, checked on each job (cases as data).

preview changes nothing; apply changes exactly the preview; undo restores the tables exactly;
the same request twice applies once; a fault mid-apply leaves only the failure record; a stale
preview is refused; a role without the permission is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from analytics import jobs
from analytics.access.roles import Actor
from analytics.errors import AccessDenied, InvalidInput, JobError, StalePreview
from analytics.jobs.registry import TABLE_KEYS, canonical_json
from tests.analytics.jobs.conftest import ADMIN, ANALYST, VIEWER
from tests.analytics.jobs.helpers import job_runs, snapshot


@dataclass(frozen=True)
class Case:
    description: str
    job: str
    params: dict[str, Any] = field(default_factory=dict)
    before: tuple[tuple[str, dict[str, Any]], ...] = ()  # jobs applied first (setup)
    settings: tuple[tuple[str, str], ...] = ()  # warehouse settings for the case (setup)
    min_changes: int = 1
    min_outputs: int = 0
    repeat_is_empty: bool = True  # a fresh preview after the apply has nothing left to do


CASES = [
    Case("normalise names, phones, e-mails", "normalise-identities", min_changes=4),
    Case("archive duplicate documents, keep the signed one", "archive-duplicate-documents", min_changes=2),
    Case("route old drafts to signers", "route-unsigned-documents", {"days": 7}, min_changes=3, min_outputs=2),
    Case("merge clusters and approved pairs", "merge-identities", min_changes=8, min_outputs=3),
    Case("unmerge one merged identity", "unmerge-identity", {"patient_id": "P001"},
         before=(("merge-identities", {}),), min_changes=3, min_outputs=1, repeat_is_empty=False),
    # the fixture's 7 patients cannot reach the default k=5: the hospital's setting is lowered
    Case("pseudonymised extract (generalised to k=2)", "pseudonymised-extract",
         {"on_small_groups": "generalise", "tables": "patients,documents"},
         settings=(("privacy.k", "2"), ("privacy.max_suppressed_share", "0.5")),
         min_changes=0, min_outputs=3, repeat_is_empty=False),
]
IDS = [c.job for c in CASES]


def _setup(con, case: Case) -> None:
    for key, value in case.settings:
        con.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])
    for job, params in case.before:
        jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, job, params).preview_id)


def _current(con, table: str, key: dict[str, Any], cols: list[str]) -> dict[str, Any]:
    (k, v), = key.items()
    assert k in TABLE_KEYS[table]
    cur = con.execute(f'SELECT {", ".join(cols)} FROM "{table}" WHERE "{k}" = ?', [v])
    rows = cur.fetchall()
    assert len(rows) == 1, (table, key)
    return json.loads(canonical_json(dict(zip(cols, rows[0], strict=True))))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_preview_changes_nothing_and_apply_changes_exactly_the_preview(warehouse, case: Case, tmp_path: Path):
    con = warehouse
    _setup(con, case)
    start = snapshot(con)
    prev = jobs.preview(con, ADMIN, case.job, case.params)
    assert snapshot(con) == start, "preview changed data"
    assert prev.change_count >= case.min_changes
    assert len(prev.outputs) >= case.min_outputs
    changes = jobs.preview_changes(con, ADMIN, prev.preview_id)
    assert len(changes) == prev.change_count  # the page's pager counts on it
    for offset, limit in ((0, 2), (1, 3), (prev.change_count, 5)):  # pages equal slices of the whole
        page = jobs.preview_changes(con, ADMIN, prev.preview_id, limit=limit, offset=offset)
        assert page["seq"].tolist() == changes["seq"].tolist()[offset:offset + limit]
    seen = []
    run = jobs.apply(con, ADMIN, prev.preview_id, progress=lambda done, total: seen.append((done, total)))
    assert run.status == "succeeded" and run.rows_changed == prev.change_count
    assert seen[0] == (0, prev.change_count) and seen[-1] == (prev.change_count, prev.change_count)
    after = snapshot(con)
    touched: dict[str, set[str]] = {}
    for row in changes.itertuples():
        key = json.loads(row.row_key)
        values = json.loads(row.after)
        assert _current(con, row.table_name, key, sorted(values)) == values
        touched.setdefault(row.table_name, set()).add(row.row_key)
    for table, rows in start.items():  # nothing else moved
        keys = TABLE_KEYS[table]
        cols = [d[0] for d in con.execute(f'SELECT * FROM "{table}" LIMIT 0').description]
        idx = [cols.index(k) for k in keys]

        def untouched(rs, table=table, idx=idx, keys=keys):
            return sorted(r for r in rs if canonical_json({k: r[i] for k, i in zip(keys, idx, strict=True)})
                          not in touched.get(table, set()))

        assert untouched(rows) == untouched(after[table]), table
    assert len(run.outputs) == len(prev.outputs)
    assert all(Path(p).is_file() for p in run.outputs)
    log = jobs.run_changes(con, ADMIN, run.run_id)
    assert log[["table_name", "row_key", "before", "after"]].equals(changes[["table_name", "row_key", "before", "after"]])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_undo_restores_every_table_exactly(warehouse, case: Case):
    con = warehouse
    _setup(con, case)
    start = snapshot(con)
    run = jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, case.job, case.params).preview_id)
    assert run.rows_changed == 0 or snapshot(con) != start
    undone = jobs.undo(con, ADMIN, run.run_id)
    assert undone.undo_of == run.run_id
    assert snapshot(con) == start
    assert jobs.get_run(con, run.run_id)["status"] == "undone"
    spec = jobs.get_job(case.job)
    if spec.undo_removes_outputs:
        assert not any(Path(p).exists() for p in run.outputs)
    with pytest.raises(JobError, match=f"run {run.run_id} was already undone by run {undone.run_id}"):
        jobs.undo(con, ADMIN, run.run_id)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_same_request_twice_applies_once(warehouse, case: Case):
    con = warehouse
    _setup(con, case)
    prev = jobs.preview(con, ADMIN, case.job, case.params)
    first = jobs.apply(con, ADMIN, prev.preview_id)
    state = snapshot(con)
    again = jobs.apply(con, ADMIN, prev.preview_id)
    assert again.already_applied and again.run_id == first.run_id
    assert snapshot(con) == state
    if case.repeat_is_empty:
        assert jobs.preview(con, ADMIN, case.job, case.params).change_count == 0


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_fault_mid_apply_leaves_only_the_failure_record(warehouse, case: Case, tmp_path: Path):
    con = warehouse
    _setup(con, case)
    start = snapshot(con)
    runs_before = job_runs(con)
    prev = jobs.preview(con, ADMIN, case.job, case.params)
    fail_at = prev.change_count // 2
    with pytest.raises(JobError, match=f"injected fault after {fail_at} change"):
        jobs.apply(con, ADMIN, prev.preview_id, batch_size=1, fail_after=fail_at)
    assert snapshot(con) == start
    assert job_runs(con) == [*runs_before, (case.job, "failed")]
    failed = con.execute("SELECT run_id, message FROM job_runs WHERE status = 'failed'").fetchone()
    assert "injected fault" in failed[1]
    assert con.execute("SELECT count(*) FROM job_changes WHERE run_id = ?", [failed[0]]).fetchone()[0] == 0
    assert not list((tmp_path / "outputs" / case.job).glob(f"*{failed[0]}*"))
    # the failure does not count as the request: a retry applies
    assert jobs.apply(con, ADMIN, prev.preview_id).status == "succeeded"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_stale_preview_is_refused(warehouse, case: Case):
    con = warehouse
    _setup(con, case)
    prev = jobs.preview(con, ADMIN, case.job, case.params)
    con.execute("UPDATE patients SET city = 'AILLEURS' WHERE patient_id = 'P008'")
    con.execute("UPDATE documents SET title = 'autre' WHERE document_id = 'D1'")
    start = snapshot(con)
    with pytest.raises(StalePreview, match=f"preview {prev.preview_id} is stale: the data read by {case.job} "
                                           "changed since the preview; preview again"):
        jobs.apply(con, ADMIN, prev.preview_id)
    assert snapshot(con) == start


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_roles_are_checked_in_the_engine(warehouse, case: Case):
    con = warehouse
    _setup(con, case)
    with pytest.raises(AccessDenied, match="victor \\(role viewer\\) may not preview cleanup jobs"):
        jobs.preview(con, VIEWER, case.job, case.params)
    prev = jobs.preview(con, ANALYST, case.job, case.params)  # analysts may preview
    with pytest.raises(AccessDenied, match="anna \\(role analyst\\) may not apply or undo cleanup jobs"):
        jobs.apply(con, ANALYST, prev.preview_id)
    run = jobs.apply(con, ADMIN, prev.preview_id)
    with pytest.raises(AccessDenied, match="may not apply or undo cleanup jobs"):
        jobs.undo(con, ANALYST, run.run_id)


@pytest.mark.parametrize("limit, offset", [(0, 0), (-1, 0), (5, -1)])
def test_preview_change_pages_are_checked(warehouse, limit, offset):
    with pytest.raises(InvalidInput, match=rf"limit \({limit}\) must be at least 1 and offset \({offset}\) not negative"):
        jobs.preview_changes(warehouse, ADMIN, "p-any", limit=limit, offset=offset)


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_change_rows_need_patient_data_and_preview_rights(warehouse, role):
    """Before/after rows are patient data: a role without both rights gets nothing."""
    who = Actor("zoe", role)
    if role == "viewer":
        with pytest.raises(AccessDenied, match=r"zoe \(role viewer\) may not preview cleanup jobs"):
            jobs.preview_changes(warehouse, who, "p-any")
        with pytest.raises(AccessDenied, match=r"zoe \(role viewer\) may not preview cleanup jobs"):
            jobs.run_changes(warehouse, who, "r-any")
    else:  # an analyst may preview and read patient data
        assert jobs.preview_changes(warehouse, who, "p-unknown").empty
