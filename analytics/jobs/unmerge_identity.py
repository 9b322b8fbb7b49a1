"""unmerge-identity: restore one merged identity (défusion) from its merge run's change log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from analytics.errors import InvalidInput, JobError
from analytics.jobs.merge_messages import unmerge_outputs
from analytics.jobs.registry import Change, ChangeSet, JobContext, canonical_json, job
from analytics.messages import english


@dataclass(frozen=True)
class UnmergeParams:
    patient_id: str = field(default="", metadata={"help": "the merged (inactive) identity to restore"})
    run_id: str | None = field(default=None, metadata={"help": "merge run (default: the latest that merged it)"})

    def validate(self) -> None:
        if not self.patient_id:
            raise InvalidInput("param.required", job="unmerge-identity", name="patient_id")


@job("unmerge-identity", params=UnmergeParams, reads=("patients", "documents", "audit_events"))
def unmerge_identity(ctx: JobContext, p: UnmergeParams) -> ChangeSet:
    """Restore a merged identity: active again, unlinked, its documents and events pointed back.

    Uses the merge run's change log (the pre-merge snapshot), so only what that merge moved
    for this identity goes back, including the survivor fields completed from it. Refused if
    any of those rows changed since the merge (undo the later change first).
    """
    current_row = ctx.rows("SELECT active, merged_into FROM patients WHERE patient_id = ?", [p.patient_id])
    if not current_row:
        raise JobError("unmerge.no_patient", patient=p.patient_id)
    if current_row[0]["merged_into"] is None:
        raise JobError("unmerge.not_merged", patient=p.patient_id)
    key = canonical_json({"patient_id": p.patient_id})
    found = ctx.rows(
        "SELECT r.run_id FROM job_changes c JOIN job_runs r USING (run_id) "
        "WHERE r.job = 'merge-identities' AND r.status = 'succeeded' AND c.table_name = 'patients' "
        "AND c.row_key = $key AND c.op = 'update' AND json_extract_string(c.after, '$.merged_into') IS NOT NULL "
        "AND ($run IS NULL OR r.run_id = $run) ORDER BY r.started_at DESC LIMIT 1",
        {"key": key, "run": p.run_id},
    )
    if not found:
        if p.run_id:
            raise JobError("unmerge.not_that_run", patient=p.patient_id, run=p.run_id)
        raise JobError("unmerge.no_merge_run", patient=p.patient_id)
    run_id = found[0]["run_id"]
    logged = ctx.rows(
        "SELECT seq, table_name, row_key, before, after FROM job_changes WHERE run_id = ? AND origin = ? ORDER BY seq",
        [run_id, p.patient_id],
    )
    changes: list[Change] = []
    survivor = None
    for entry in logged:
        table, row_key = entry["table_name"], json.loads(entry["row_key"])
        before, after = json.loads(entry["before"]), json.loads(entry["after"])
        (key_col, key_val), = row_key.items()
        cols = sorted(after)
        current = ctx.rows(
            f'SELECT {", ".join(f"{c}::VARCHAR AS {c}" for c in cols)} FROM "{table}" WHERE "{key_col}" = ?',  # noqa: S608
            [key_val],
        )
        if len(current) != 1 or any(
            (current[0][c] is None) != (after[c] is None) or (after[c] is not None and not _same(current[0][c], after[c]))
            for c in cols
        ):
            raise JobError("unmerge.changed", patient=p.patient_id, table=table, key=key_val, run=run_id)
        if table == "patients" and "merged_into" in after:
            survivor = after["merged_into"]
        changes.append(Change(table, row_key, after, before, origin=p.patient_id))
    outputs = []
    if survivor:  # the records as this unmerge leaves them: the stored rows with its changes
        rows = {r["patient_id"]: r for r in ctx.rows("SELECT * FROM patients WHERE list_contains(?, patient_id)",
                                                      [[p.patient_id, survivor]])}
        for c in changes:
            if c.table == "patients" and c.key["patient_id"] in rows:
                rows[c.key["patient_id"]] = {**rows[c.key["patient_id"]], **(c.after or {})}
        if p.patient_id in rows and survivor in rows:
            merge_params = json.loads(ctx.rows("SELECT params FROM job_runs WHERE run_id = ?", [run_id])[0]["params"])
            outputs = unmerge_outputs(ctx.con, [(rows[survivor], rows[p.patient_id])], now=ctx.now,
                                      operator=ctx.actor.username, params=merge_params)
    counts = {
        "identities restored": sum(1 for c in changes if c.table == "patients" and c.key["patient_id"] == p.patient_id),
        "survivor fields restored": sum(1 for c in changes if c.table == "patients" and c.key["patient_id"] != p.patient_id),
        "documents pointed back": sum(1 for c in changes if c.table == "documents"),
        "audit events pointed back": sum(1 for c in changes if c.table == "audit_events"),
    }
    notes = [english("note.unmerge_from", run=run_id, survivor=survivor)]
    if outputs:
        notes.append(f"receivers: ADT^A28/A31 and FHIR patches restore the identities; the "
                     f"{counts['documents pointed back']} document(s) and the stays they moved to {survivor} "
                     "must be moved back in each receiver by hand (PAM France has no message reversing an A40)")
    return ChangeSet(changes=changes, outputs=outputs, counts=counts, notes=notes)


def _same(current: str, logged: object) -> bool:
    """Compare a value read as text with its JSON-logged form (booleans, numbers, text)."""
    if isinstance(logged, bool):
        return current == ("true" if logged else "false")
    return current == str(logged)
