"""Issue 7: the job worker keeps serving when a job fails (real worker thread, real DuckDB).

The dashboard applies a confirmed preview through the queue (``apply`` request with the
preview's fingerprint); these tests drive the worker thread the way the server runs it.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from analytics import jobs
from analytics.jobs import registry
from analytics.jobs.queue import JobQueue, queue_path
from analytics.jobs.registry import Change, ChangeSet, JobContext
from analytics.jobs.worker import JobWorker
from tests.analytics.jobs.conftest import ANALYST, MANAGER
from tests.analytics.jobs.helpers import snapshot

BROKEN = "test-breaks-mid-apply"


@dataclasses.dataclass(frozen=True)
class _NoParams:
    pass


@pytest.fixture
def broken_job():
    """A job whose change set fails half-way through the apply: documents change first
    (valid), then a patients batch holds a date DuckDB cannot cast (31 February)."""

    def breaks_mid_apply(ctx: JobContext, _p: _NoParams) -> ChangeSet:
        """Archive a document, then write an impossible birth date."""
        return ChangeSet(changes=[
            Change("documents", {"document_id": "D1"}, {"status": "draft"}, {"status": "archived"}),
            Change("patients", {"patient_id": "P001"}, {"birth_date": "1950-03-01"}, {"birth_date": "2024-02-31"}),
        ], counts={"rows": 2})

    registry.job(BROKEN, params=_NoParams, reads=("patients",))(breaks_mid_apply)
    yield BROKEN
    registry._REGISTRY.pop(BROKEN, None)


def _submit_raw(queue: JobQueue, kind: str, payload: str) -> int:
    """A request whose payload is not JSON (written by something other than JobQueue.submit)."""
    with closing(sqlite3.connect(queue.path)) as db, db:
        return int(db.execute("INSERT INTO requests (kind, payload, created_at) VALUES (?, ?, ?)",
                              [kind, payload, time.time()]).lastrowid)


def _actor(a) -> dict[str, str]:
    return {"username": a.username, "role": a.role, "via": "dashboard"}


def test_a_failing_job_is_recorded_and_the_next_queued_job_still_runs(warehouse, warehouse_path: Path, broken_job):
    broken = jobs.preview(warehouse, MANAGER, broken_job)
    good = jobs.preview(warehouse, MANAGER, "normalise-identities")
    before = snapshot(warehouse)
    queue = JobQueue(queue_path(warehouse_path))
    manager = _actor(MANAGER)
    ids = {
        "bad params": queue.submit("run", {"job": "normalise-identities", "params": {"nope": 1}, "apply": True,
                                           "actor": manager}),
        "fails mid-apply": queue.submit("apply", {"preview_id": broken.preview_id,
                                                  "fingerprint": broken.fingerprint, "actor": manager}),
        "malformed payload": queue.submit("apply", {"actor": manager}),
        "not JSON": _submit_raw(queue, "apply", "{not json"),
        "good": queue.submit("apply", {"preview_id": good.preview_id, "fingerprint": good.fingerprint,
                                       "actor": manager}),
    }
    worker = JobWorker(warehouse, warehouse_path, poll=0.05)
    worker.queue.heartbeat()  # as start_worker does: visible to waiting clients at once
    worker.start()
    try:
        results = {name: queue.wait(rid, timeout=60) for name, rid in ids.items()}
        assert worker.is_alive()
        assert (worker.handled, worker.failed) == (5, 4)
    finally:
        worker.stop()
    assert not worker.is_alive()

    assert results["bad params"]["error"] == (
        "job normalise-identities: unknown parameter nope (known: only_active, phone_format, region, strip_accents)")
    failed = jobs.history(warehouse)
    failed = failed[failed.job == broken_job].iloc[0]
    assert results["fails mid-apply"]["ok"] is False
    assert results["fails mid-apply"]["error"].startswith(
        f"job {broken_job} failed and was rolled back (run {failed.run_id}): Conversion Error")
    assert failed.status == "failed" and failed.rows_changed == 0 and failed.actor == "marc"
    assert failed.message.startswith("ConversionException: Conversion Error")
    assert results["malformed payload"]["error"] == "apply request: preview_id and fingerprint are required"
    assert results["not JSON"]["error"] == f"JobError: request {ids['not JSON']}: the payload is not a JSON object"
    # the broken run got half-way (its first batch was applied) and then went nowhere
    assert queue.status(ids["fails mid-apply"])["progress_done"] == 1
    assert warehouse.execute("SELECT count(*) FROM job_changes WHERE run_id = ?", [failed.run_id]).fetchone() == (0,)

    assert results["good"]["ok"], results["good"]
    assert results["good"]["data"]["rows_changed"] == good.change_count
    assert queue.status(ids["good"])["progress_done"] == good.change_count
    after = snapshot(warehouse)
    assert after["documents"] == before["documents"]  # the broken run's first batch was rolled back
    assert after["patients"] != before["patients"]  # the good run applied
    statuses = dict(jobs.history(warehouse)[["job", "status"]].itertuples(index=False))
    assert statuses == {broken_job: "failed", "normalise-identities": "succeeded"}


REFUSALS = [
    ("another preview's fingerprint", MANAGER, lambda good, other: other.fingerprint, False,
     "preview {id} is stale: it is not the preview that was confirmed; preview again"),
    ("data changed since the preview", MANAGER, lambda good, other: good.fingerprint, True,
     "preview {id} is stale: the data read by normalise-identities changed since the preview; preview again"),
    ("an analyst may not apply", ANALYST, lambda good, other: good.fingerprint, False,
     "anna (role analyst) may not apply or undo cleanup jobs"),
]


@pytest.mark.parametrize(("description", "who", "fingerprint", "touch", "message"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_a_refused_apply_through_the_queue_changes_nothing(warehouse, warehouse_path: Path, description, who,
                                                           fingerprint, touch, message):
    good = jobs.preview(warehouse, MANAGER, "normalise-identities")
    other = jobs.preview(warehouse, MANAGER, "archive-duplicate-documents")
    if touch:
        warehouse.execute("UPDATE patients SET postcode = '75012' WHERE patient_id = 'P001'")
    before = snapshot(warehouse)
    queue = JobQueue(queue_path(warehouse_path))
    rid = queue.submit("apply", {"preview_id": good.preview_id, "fingerprint": fingerprint(good, other),
                                 "actor": _actor(who)})
    worker = JobWorker(warehouse, warehouse_path)
    try:
        assert worker.step()
    finally:
        worker.cursor.close()
    result = queue.wait(rid, timeout=1)
    assert (result["ok"], result["error"]) == (False, message.format(id=good.preview_id)), description
    assert snapshot(warehouse) == before
    assert set(jobs.history(warehouse).status) <= {"failed"}
