"""purge-expired: remove audit events and access-log rows older than their retention, archived first.

Retention settings (warehouse ``settings`` table; docs/PRIVACY.md): ``retention.audit_events_days``
and ``retention.access_log_days``, 365 days each by default (bounds 30 to 3,650; the CNIL
recommends 6 months to 1 year for connection logs). What is removed is written first to a
Parquet file per table (the job's output: owner-only, in a 0700 run folder); undo re-inserts
the rows from the change log.

Hygie's own access log is a keyed hash chain (:mod:`analytics.access.access_log`): only its
oldest rows are removed (a prefix by log id: the rows before the first one still within the
retention), and in the apply's transaction, before it commits, the chain's anchor is moved to
the first kept row (:func:`~analytics.access.access_log.rebase_after_purge`), so that
:func:`~analytics.access.access_log.verify_chain` still vouches for every kept row. Should
the commit fail after that, the rows left before the anchor are simply no longer vouched for
(verification skips them); an undo puts the rows back the same way.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.errors import InvalidInput, JobError
from analytics.jobs.registry import Change, ChangeSet, JobContext, Output, job
from analytics.messages import english

TABLES = ("audit_events", "access_log")
DEFAULT_DAYS = 365
BOUNDS = (30, 3650)

#: Per table: its key, and the query of its expired rows (``$cutoff``), oldest first.
_EXPIRED = {
    "audit_events": ("event_id", 'SELECT * FROM audit_events WHERE "timestamp" < $cutoff '
                                 'ORDER BY "timestamp", event_id'),
    # a prefix of the chain: every row before the first one still within the retention
    "access_log": ("log_id", "SELECT * FROM access_log WHERE log_id < coalesce("
                             "(SELECT min(log_id) FROM access_log WHERE logged_at >= $cutoff), "
                             "(SELECT max(log_id) + 1 FROM access_log)) ORDER BY log_id"),
}


@dataclass(frozen=True)
class PurgeParams:
    tables: str = field(default="audit_events,access_log",
                        metadata={"help": "tables to purge: audit_events, access_log", "choices": TABLES,
                                  "multiple": True})
    as_of: dt.date | None = field(default=None, metadata={"help": "reference day (default: today)"})

    def validate(self) -> None:
        bad = [t for t in self.table_list() if t not in TABLES]
        if bad or not self.table_list():
            raise InvalidInput("param.purge_tables", value=repr(self.tables), allowed=", ".join(TABLES))

    def table_list(self) -> list[str]:
        return [t.strip() for t in self.tables.split(",") if t.strip()]


def retention_days(ctx: JobContext, table: str) -> int:
    """The retention of ``table`` in days (setting ``retention.<table>_days``), checked."""
    key = f"retention.{table}_days"
    row = ctx.rows("SELECT value FROM settings WHERE key = ?", [key])
    raw = row[0]["value"] if row and row[0]["value"] is not None else str(DEFAULT_DAYS)
    try:
        days = int(raw)
    except ValueError:
        raise InvalidInput("retention.not_whole", table=table, value=repr(raw)) from None
    if not BOUNDS[0] <= days <= BOUNDS[1]:
        raise InvalidInput("retention.out_of_bounds", table=table, days=days, low=BOUNDS[0], high=BOUNDS[1])
    return days


def _parquet(rows: list[dict]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


def _chain_notes(ctx: JobContext, rows: list[dict]) -> list[str]:
    """What the purge does to the access log's chain, for the preview (and so the run's record)."""
    last = rows[-1]
    kept = ctx.rows("SELECT min(log_id) AS first FROM access_log WHERE log_id > ?", [last["log_id"]])
    notes = [english("note.access_log_purged", first=rows[0]["log_id"], last=last["log_id"], hash=last["row_hash"])]
    if kept and kept[0]["first"] is not None:
        notes.append(english("note.access_log_anchored", id=kept[0]["first"]))
    return notes


def reanchor_access_log(con: duckdb.DuckDBPyConnection, preview_id: str) -> None:
    """In the apply's transaction, once the access log's oldest rows are deleted: start the
    chain at the first kept row. Nothing to do when the preview removes no access-log row."""
    from analytics.access.access_log import rebase_after_purge

    removed = con.execute("SELECT count(*) FROM job_preview_changes WHERE preview_id = ? AND table_name = "
                          "'access_log'", [preview_id]).fetchone()[0]
    if not removed:
        return
    first = con.execute("SELECT min(log_id) FROM access_log").fetchone()[0]
    if first is None:
        raise JobError("purge.no_anchor_row")
    rebase_after_purge(con, int(first))


@job("purge-expired", params=PurgeParams, reads=("audit_events",), before_commit=reanchor_access_log)
def purge_expired(ctx: JobContext, p: PurgeParams) -> ChangeSet:
    """Remove audit events and access-log rows older than their retention, archived to Parquet first.

    Retention comes from the settings retention.audit_events_days and retention.access_log_days
    (365 days by default). The removed rows go to an owner-only Parquet file per table; the
    access log's keyed chain is anchored at its first kept row, so it still verifies; undo puts
    the rows back.
    """
    day = p.as_of or ctx.now.date()
    changes: list[Change] = []
    outputs: list[Output] = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    for table in p.table_list():
        days = retention_days(ctx, table)
        cutoff = dt.datetime.combine(day - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
        key, sql = _EXPIRED[table]
        rows = ctx.rows(sql, {"cutoff": cutoff})
        counts[f"{table} rows removed"] = len(rows)
        notes.append(english("note.retention", table=table, days=days, day=cutoff.date().isoformat()))
        if not rows:
            continue
        if table == "access_log":
            notes += _chain_notes(ctx, rows)
        changes += [Change(table, {key: r[key]}, r, None, origin=f"older than {days} days") for r in rows]
        outputs.append(Output(f"{table}_before_{cutoff.date().isoformat()}.parquet", _parquet(rows)))
    counts["files"] = len(outputs)
    return ChangeSet(changes=changes, outputs=outputs, counts=counts, notes=notes)
