"""New identities are matched as they arrive: after a patients import, incrementally.

An import that inserts patients into a warehouse where duplicate detection has run calls
:func:`match_on_arrival`: the new identities join the identity index and are compared with it
(:func:`analytics.identity.match_new_patients`, the model and thresholds of the latest run), so
the review queue and search before create (``$match``) know them minutes — not a night —
after they were created. Without a previous run nothing happens here: the first
``hygie duplicates find`` matches everyone.
"""

from __future__ import annotations

import duckdb

from analytics.access.roles import Actor, Permission, allowed
from analytics.identity.incremental import match_new_patients
from analytics.identity.run import MatchSummary

__all__ = ["match_on_arrival"]


def match_on_arrival(con: duckdb.DuckDBPyConnection, actor: Actor, report: object) -> MatchSummary | None:
    """Match the patients an import just inserted; a notice is added to ``report``.

    ``report`` is an :class:`~analytics.importing.report.ImportReport`. Nothing is done for
    another table, an import that inserted nobody, a warehouse never matched, or an actor
    whose role may not read patient data (the next full run will match them).
    """
    if getattr(report, "table", None) != "patients" or not getattr(report, "rows_inserted", 0):
        return None
    if getattr(report, "status", None) in ("refused", "failed", "interrupted"):
        return None
    if not allowed(actor, Permission.VIEW_PATIENT_DATA):
        return None
    if not con.execute("SELECT count(*) FROM match_runs").fetchone()[0]:
        return None
    summary = match_new_patients(con, actor=actor)
    new = summary.blocking.get("new_patients", 0) if isinstance(summary.blocking, dict) else 0
    report.notices.append(  # type: ignore[attr-defined]
        f"{new} new identities matched on arrival (run {summary.match_run_id}); in all now "
        f"{summary.matches} pairs decided match, {summary.reviews} to review")
    return summary
