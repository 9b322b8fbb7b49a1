"""route-unsigned-documents: old unsigned drafts go to their signer's worklist."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from analytics.errors import InvalidInput
from analytics.exports import to_csv_bytes
from analytics.jobs.registry import Change, ChangeSet, JobContext, Output, job
from analytics.messages import english

WORKLIST_COLUMNS = ("document_id", "patient_id", "document_type", "title", "service", "author_id",
                    "created_at", "days_unsigned", "reason")


@dataclass(frozen=True)
class RouteParams:
    days: int = field(default=7, metadata={"help": "route drafts unsigned for more than this many days", "min": 0})
    as_of: dt.date | None = field(default=None, metadata={"help": "reference day (default: today)"})

    def validate(self) -> None:
        if self.days < 0:
            raise InvalidInput("param.route_days", days=self.days)


def worklist_csv(rows: list[dict[str, object]]) -> bytes:
    """A French-Excel worklist (';', UTF-8 with BOM) written by Hygie's one CSV writer, which
    neutralises formula-looking text (OWASP CSV injection) and keeps numbers as numbers."""
    frame = pd.DataFrame([[row[c] for c in WORKLIST_COLUMNS] for row in rows], columns=list(WORKLIST_COLUMNS))
    return to_csv_bytes(frame, "excel-fr")


@job("route-unsigned-documents", params=RouteParams,
     reads=("documents", "staff", "document_routing"), undo_removes_outputs=True)
def route_unsigned_documents(ctx: JobContext, p: RouteParams) -> ChangeSet:
    """Send drafts unsigned for more than N days to the signer's worklist (CSV per signer).

    The signer is the author while still active, else the head of the document's service
    (staff.is_service_head). Each routing is a row of document_routing, so undo removes it.
    """
    as_of = p.as_of or ctx.now.date()
    cutoff = dt.datetime.combine(as_of, dt.time(0, 0), tzinfo=ctx.now.tzinfo) - dt.timedelta(days=p.days)
    rows = ctx.rows(
        """
        WITH due AS (
            SELECT d.document_id, d.patient_id, d.document_type, d.title, d.author_id, d.created_at,
                   coalesce(d.service, a.service) AS service, a.active AS author_active,
                   date_diff('day', CAST(d.created_at AS DATE), CAST($as_of AS DATE)) AS days_unsigned
            FROM documents d LEFT JOIN staff a ON a.user_id = d.author_id
            WHERE d.status = 'draft' AND d.signed_at IS NULL AND d.created_at < $cutoff
              AND d.document_id NOT IN (SELECT document_id FROM document_routing)
        ), heads AS (
            SELECT service, min(user_id) AS head_id FROM staff
            WHERE is_service_head AND active GROUP BY service
        )
        SELECT due.*, CASE WHEN author_active THEN author_id ELSE h.head_id END AS signer_id,
               CASE WHEN author_active THEN 'author' ELSE 'service_head' END AS reason
        FROM due LEFT JOIN heads h ON h.service = due.service
        ORDER BY signer_id, created_at, document_id
        """,
        {"as_of": as_of, "cutoff": cutoff},
    )
    changes: list[Change] = []
    per_signer: dict[str, list[dict[str, object]]] = {}
    unroutable: list[str] = []
    for row in rows:
        if row["signer_id"] is None:
            unroutable.append(row["document_id"])
            continue
        routing_id = f"rt-{row['document_id']}-{as_of:%Y%m%d}"
        changes.append(Change(
            "document_routing", {"routing_id": routing_id}, None,
            {"routing_id": routing_id, "document_id": row["document_id"], "signer_id": row["signer_id"],
             "reason": row["reason"], "routed_at": ctx.now, "days_unsigned": row["days_unsigned"]},
            origin=row["signer_id"],
        ))
        per_signer.setdefault(row["signer_id"], []).append(row)
    outputs = []
    for signer, items in per_signer.items():
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", signer)
        outputs.append(Output(f"worklist_{safe}.csv", worklist_csv(items)))
    notes = []
    if unroutable:
        notes.append(english("note.unroutable",
                             documents=", ".join(unroutable[:10]) + (" ..." if len(unroutable) > 10 else "")))
    counts = {"documents routed": len(changes), "signers": len(per_signer),
              "to service heads": sum(1 for c in changes if c.after and c.after["reason"] == "service_head"),
              "not routable": len(unroutable)}
    return ChangeSet(changes=changes, outputs=outputs, counts=counts, notes=notes)
