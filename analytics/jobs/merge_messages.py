"""How merges and unmerges reach other systems: HL7 v2.5 ADT (PAM France) and FHIR R4 patches.

The jobs call :func:`merge_outputs` and :func:`unmerge_outputs`; undo calls
:func:`compensating_outputs` (what a receiver needs to reverse what a run sent). Builders and
settings live in :mod:`analytics.messaging`; docs/MESSAGING.md says what goes where and why.

* merge of loser L into survivor S: one ``adt_a40_<L>.hl7`` (PID = S as it is after the merge,
  MRG-1 = L's IPP) and ``merge_bundle.json`` (L inactive, ``replaced-by`` S; S ``replaces`` L).
* unmerge (or undo of a merge): PAM France has no message that reverses an A40, so
  ``adt_a28_<L>.hl7`` re-creates L as it was restored and ``adt_a31_<S>.hl7`` restores S's
  traits; ``unmerge_bundle.json`` makes L active again and removes the links on both sides.
  Documents and stays that the receivers moved to S must be moved back there by hand (their
  own tools, e.g. A44 per stay): the unmerge's notes say so, with the counts Hygie pointed back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

import duckdb

from analytics.jobs.registry import Output
from analytics.messaging.fhir import link_patches, transaction_bundle
from analytics.messaging.files import message_file_name
from analytics.messaging.hl7v2 import adt_a28, adt_a31, adt_a40, control_id
from analytics.messaging.settings import MessagingSettings, messaging_settings

__all__ = ["compensating_outputs", "merge_outputs", "unmerge_outputs"]

Pair = tuple[dict[str, Any], dict[str, Any]]  # (survivor row, loser row)
_HEADER_KEYS = ("sending_facility", "receiving_application", "receiving_facility")


def _headers(params: dict[str, Any] | None) -> dict[str, str]:
    params = params or {}
    return {k: str(params.get(k) or "") for k in _HEADER_KEYS} | {
        "sending_facility": str(params.get("sending_facility") or "HOPITAL")}


def merge_outputs(con: duckdb.DuckDBPyConnection, pairs: Sequence[Pair], *, now: dt.datetime, operator: str,
                  params: dict[str, Any] | None = None, settings: MessagingSettings | None = None) -> list[Output]:
    """One ADT^A40 per loser and one FHIR transaction of link/active patches.

    The rows given win over the stored ones (a survivor completed from its losers), the stored
    ones fill in what the job did not read (INS, identity attributes).
    """
    s = settings or messaging_settings(con)
    pairs = _complete(con, pairs)
    token = uuid.uuid4().hex[:12].upper()
    headers = _headers(params)
    outputs = [
        Output(message_file_name("adt_a40", loser["patient_id"], "hl7"),
               adt_a40(survivor, loser, s, now=now, control=control_id(token, i), operator=operator, **headers))
        for i, (survivor, loser) in enumerate(pairs, 1)
    ]
    bundle = transaction_bundle(link_patches([(sv["patient_id"], lo["patient_id"]) for sv, lo in pairs], s,
                                             merge=True), s, now)
    if bundle is not None:
        outputs.append(Output("merge_bundle.json", bundle))
    return outputs


def unmerge_outputs(con: duckdb.DuckDBPyConnection, pairs: Sequence[Pair], *, now: dt.datetime, operator: str,
                    params: dict[str, Any] | None = None, settings: MessagingSettings | None = None) -> list[Output]:
    """Per restored loser an ADT^A28, per survivor an ADT^A31, and the FHIR unmerge patches."""
    s = settings or messaging_settings(con)
    pairs = _complete(con, pairs)
    token = uuid.uuid4().hex[:12].upper()
    headers = _headers(params)
    outputs: list[Output] = []
    seq = 0
    survivors: dict[str, dict[str, Any]] = {}
    for survivor, loser in pairs:
        seq += 1
        outputs.append(Output(message_file_name("adt_a28", loser["patient_id"], "hl7"),
                              adt_a28(loser, s, now=now, control=control_id(token, seq), operator=operator,
                                      **headers)))
        survivors[survivor["patient_id"]] = survivor
    for survivor in survivors.values():
        seq += 1
        outputs.append(Output(message_file_name("adt_a31", survivor["patient_id"], "hl7"),
                              adt_a31(survivor, s, now=now, control=control_id(token, seq), operator=operator,
                                      **headers)))
    bundle = transaction_bundle(link_patches([(sv["patient_id"], lo["patient_id"]) for sv, lo in pairs], s,
                                             merge=False), s, now)
    if bundle is not None:
        outputs.append(Output("unmerge_bundle.json", bundle))
    return outputs


def _rows(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, dict[str, Any]]:
    cur = con.execute("SELECT * FROM patients WHERE list_contains(?, patient_id)", [ids])
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def _complete(con: duckdb.DuckDBPyConnection, pairs: Sequence[Pair]) -> list[Pair]:
    stored = _rows(con, sorted({p["patient_id"] for pair in pairs for p in pair}))
    return [({**stored.get(sv["patient_id"], {}), **sv}, {**stored.get(lo["patient_id"], {}), **lo})
            for sv, lo in pairs]


def compensating_outputs(con: duckdb.DuckDBPyConnection, run: dict[str, Any], *, now: dt.datetime,
                         operator: str) -> list[Output]:
    """The messages that carry the undo of ``run`` (a job_runs row) to the receivers.

    Undoing a merge sends what an unmerge sends; undoing an unmerge merges again. The records
    are taken as the undo leaves them: the current rows with the run's ``before`` values.
    Other jobs send nothing: ``[]``.
    """
    if run["job"] not in ("merge-identities", "unmerge-identity"):
        return []
    overlay: dict[str, dict[str, Any]] = {}
    merged_into_after: dict[str, str | None] = {}
    for key, before, after in con.execute(
        "SELECT row_key, before, after FROM job_changes WHERE run_id = ? AND table_name = 'patients' ORDER BY seq",
        [run["run_id"]],
    ).fetchall():
        pid = json.loads(key)["patient_id"]
        overlay.setdefault(pid, {}).update(json.loads(before or "{}"))
        after_values = json.loads(after or "{}")
        if "merged_into" in after_values:
            merged_into_after[pid] = after_values["merged_into"]
    ids = set(overlay) | {v for v in merged_into_after.values() if v}
    ids |= {v["merged_into"] for v in overlay.values() if v.get("merged_into")}
    current = _rows(con, sorted(ids))
    restored = {pid: {**row, **overlay.get(pid, {})} for pid, row in current.items()}
    params = json.loads(run.get("params") or "{}")
    if run["job"] == "merge-identities":  # undo = unmerge every loser of the run
        pairs = [(restored[s_id], restored[loser]) for loser, s_id in merged_into_after.items()
                 if s_id and loser in restored and s_id in restored]
        return unmerge_outputs(con, pairs, now=now, operator=operator, params=params)
    pairs = [(restored[values["merged_into"]], restored[pid]) for pid, values in overlay.items()
             if values.get("merged_into") and pid in restored and values["merged_into"] in restored]
    return merge_outputs(con, pairs, now=now, operator=operator, params=params)
