"""purge-expired: remove audit events older than their retention, archived first.

Retention setting (warehouse ``settings`` table; docs/PRIVACY.md): ``retention.audit_events_days``,
365 days by default (bounds 30 to 3,650). What is removed is written first to a Parquet file
(the job's output: owner-only, in a 0700 run folder); undo re-inserts the rows from the change
log. Hygie's own access log is purged with its keyed chain's
:func:`analytics.access.access_log.rebase_after_purge` (not yet a step of this job).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from analytics.errors import InvalidInput
from analytics.jobs.registry import Change, ChangeSet, JobContext, Output, job
from analytics.messages import english

TABLES = ("audit_events",)
DEFAULT_DAYS = 365
BOUNDS = (30, 3650)


@dataclass(frozen=True)
class PurgeParams:
    tables: str = field(default="audit_events", metadata={"help": "tables to purge: audit_events",
                                                          "choices": TABLES, "multiple": True})
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


def _expired(ctx: JobContext, cutoff: dt.datetime) -> list[dict]:
    return ctx.rows('SELECT * FROM audit_events WHERE "timestamp" < ? ORDER BY "timestamp", event_id', [cutoff])


@job("purge-expired", params=PurgeParams, reads=("audit_events",))
def purge_expired(ctx: JobContext, p: PurgeParams) -> ChangeSet:
    """Remove audit events older than their retention, archived to Parquet first.

    Retention comes from the setting retention.audit_events_days (365 days by default). The
    removed rows go to an owner-only Parquet file; undo puts them back.
    """
    day = p.as_of or ctx.now.date()
    changes: list[Change] = []
    outputs: list[Output] = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    for table in p.table_list():
        days = retention_days(ctx, table)
        cutoff = dt.datetime.combine(day - dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC)
        rows = _expired(ctx, cutoff)
        counts[f"{table} rows removed"] = len(rows)
        notes.append(english("note.retention", table=table, days=days, day=cutoff.date().isoformat()))
        if not rows:
            continue
        changes += [Change(table, {"event_id": r["event_id"]}, r, None, origin=f"older than {days} days")
                    for r in rows]
        outputs.append(Output(f"{table}_before_{cutoff.date().isoformat()}.parquet", _parquet(rows)))
    counts["files"] = len(outputs)
    return ChangeSet(changes=changes, outputs=outputs, counts=counts, notes=notes)
