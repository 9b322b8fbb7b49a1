"""merge-identities: merge duplicate identities (fusion), the way an EMPI does it.

Groups come from the latest match run's clusters and from reviewer-approved pairs; a group in
which reviewers marked any two members "not the same person" is skipped whole (a possible
collision: merging it would be a patient-safety incident). The survivor is chosen by identity
status (QUAL > VALI/RECUP > PROV), then the configured tie-breakers; losers stay, inactive,
with ``merged_into`` = survivor; their documents and audit events are re-pointed.

RNIV (docs/IDENTITY_RULES.md): from the clusters, only pairs the matcher marked eligible for an
automatic merge (``match_pairs.auto_merge``: strict traits equal up to formatting, no guard) are
merged; any other pair needs a reviewer's "same person" (the preview counts those still
waiting). A strict trait (birth place) of a VALI or QUAL survivor is never filled from a PROV or
RECUP record; contact fields may be, the loser recorded as the change's origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analytics.errors import InvalidInput
from analytics.identity.awaiting import HELD_MATCH_SQL, UNDECIDED_SQL
from analytics.jobs.archive_duplicate_documents import UnionFind
from analytics.jobs.merge_messages import merge_outputs
from analytics.jobs.registry import Change, ChangeSet, JobContext, Output, job
from analytics.messages import english

STATUS_RANK = {"QUAL": 0, "VALI": 1, "RECUP": 1, "PROV": 2}
SURVIVORSHIP_KEYS = ("status", "created_at", "patient_id")
#: Fields completed on the survivor from a loser when empty; a tuple moves as one block.
COMPLETABLE: tuple[tuple[str, ...], ...] = (
    ("used_name",), ("used_first_name",), ("birth_place_code",), ("address", "postcode", "city"),
    ("phone",), ("email",),
)
PATIENT_COLS = ("patient_id", "source", "birth_name", "used_name", "first_names", "used_first_name",
                "birth_date", "sex", "birth_place_code", "identity_status", "address", "postcode", "city",
                "phone", "email", "created_at", "active", "merged_into")


@dataclass(frozen=True)
class MergeParams:
    match_run_id: str | None = field(default=None, metadata={"help": "match run (default: the latest)"})
    include_clusters: bool = field(default=True, metadata={"help": "merge the run's 'match' clusters"})
    include_reviewed: bool = field(default=True, metadata={"help": "merge pairs reviewers marked 'same'"})
    survivorship: str = field(default="status,created_at,patient_id",
                              metadata={"help": "survivor order: status, created_at (oldest), patient_id",
                                        "choices": SURVIVORSHIP_KEYS, "multiple": True})
    complete_fields: bool = field(default=True, metadata={"help": "fill the survivor's empty fields from losers"})
    auto_merge: bool = field(default=False, metadata={
        "help": "unattended mode: clusters only where every pair scores >= auto_merge_threshold "
                "and every identity is QUAL or VALI"})
    auto_merge_threshold: float = field(default=0.99, metadata={"help": "strict score for auto_merge (>= 0.95)",
                                                                "min": 0.95, "max": 1.0})
    sending_facility: str = field(default="HOPITAL", metadata={"help": "MSH-4 of the ADT^A40 messages"})
    receiving_application: str = field(default="", metadata={"help": "MSH-5"})
    receiving_facility: str = field(default="", metadata={"help": "MSH-6"})

    def validate(self) -> None:
        keys = self.survivorship_keys()
        if not keys or any(k not in SURVIVORSHIP_KEYS for k in keys):
            raise InvalidInput("param.survivorship", value=repr(self.survivorship), allowed=", ".join(SURVIVORSHIP_KEYS))
        if not 0.95 <= self.auto_merge_threshold <= 1.0:
            raise InvalidInput("param.auto_merge_threshold", value=self.auto_merge_threshold)

    def survivorship_keys(self) -> list[str]:
        return [k.strip() for k in self.survivorship.split(",") if k.strip()]


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _sort_key(p: dict[str, Any], keys: list[str]) -> tuple[Any, ...]:
    out: list[Any] = []
    for k in keys:
        if k == "status":
            out.append(STATUS_RANK.get(p["identity_status"] or "", 3))
        elif k == "created_at":
            out += [p["created_at"] is None, p["created_at"].timestamp() if p["created_at"] else 0]
        else:
            out.append(p["patient_id"])
    return (*out, p["patient_id"])


#: RNIV strict traits among the completable fields (the others are complementary: contact).
STRICT_COMPLETABLE = ("birth_place_code",)
VALIDATED = ("VALI", "QUAL")


def _strict_from_weaker(block: tuple[str, ...], survivor: dict[str, Any], loser: dict[str, Any]) -> bool:
    """A strict trait of a VALI/QUAL survivor would be filled from a PROV/RECUP (or unknown) record."""
    return (any(c in STRICT_COMPLETABLE for c in block) and survivor["identity_status"] in VALIDATED
            and loser["identity_status"] not in VALIDATED)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _edges(ctx: JobContext, p: MergeParams, run_id: str | None) -> tuple[dict[tuple[str, str], float], set]:
    edges: dict[tuple[str, str], float] = {}
    if p.include_clusters and run_id is not None:
        for r in ctx.rows(
            "SELECT a.patient_id AS p1, b.patient_id AS p2, max(mp.score) AS score "
            "FROM match_clusters a JOIN match_clusters b ON a.match_run_id = b.match_run_id "
            " AND a.cluster_id = b.cluster_id AND a.patient_id < b.patient_id "
            "JOIN match_pairs mp ON mp.match_run_id = a.match_run_id "
            " AND least(mp.patient_id_1, mp.patient_id_2) = a.patient_id "
            " AND greatest(mp.patient_id_1, mp.patient_id_2) = b.patient_id "
            # RNIV: only what may be merged without a person checking it (see docs/IDENTITY_RULES.md)
            " AND coalesce(mp.auto_merge, FALSE) "
            "WHERE a.match_run_id = ? GROUP BY ALL ORDER BY ALL",
            [run_id],
        ):
            score = r["score"] if r["score"] is not None else 0.0
            if p.auto_merge and score < p.auto_merge_threshold:
                continue
            edges[(r["p1"], r["p2"])] = score
    latest = ctx.rows(
        "SELECT least(patient_id_1, patient_id_2) AS p1, greatest(patient_id_1, patient_id_2) AS p2, "
        "arg_max(decision, decided_at) AS decision FROM pair_reviews GROUP BY ALL ORDER BY ALL"
    )
    not_same = {(r["p1"], r["p2"]) for r in latest if r["decision"] == "not_same"}
    if p.include_reviewed:
        for r in latest:
            if r["decision"] == "same":
                edges.setdefault((r["p1"], r["p2"]), 1.0)
    return edges, not_same


def _awaiting_review(ctx: JobContext, run_id: str) -> int:
    """The run's pairs decided ``match`` that no automatic merge may take and no reviewer has
    decided yet: not merged, they wait in the review queue (the count the overview shows)."""
    rows = ctx.rows(f"SELECT count(*) AS n FROM match_pairs m WHERE m.match_run_id = ? AND {HELD_MATCH_SQL} "  # noqa: S608
                    f"AND {UNDECIDED_SQL}", [run_id])
    return int(rows[0]["n"])


@job("merge-identities", params=MergeParams,
     reads=("patients", "documents", "audit_events", "match_runs", "match_clusters", "match_pairs", "pair_reviews"))
def merge_identities(ctx: JobContext, p: MergeParams) -> ChangeSet:
    """Merge duplicate identities: losers inactive and linked to the survivor, data re-pointed.

    Emits the merges as a FHIR transaction Bundle (Patient.link replaced-by / replaces) and
    one HL7 v2 ADT^A40 message per loser (PID = survivor, MRG-1 = the loser's IPP).
    """
    run_id = p.match_run_id
    if run_id is None:
        latest = ctx.rows("SELECT match_run_id FROM match_runs ORDER BY started_at DESC, match_run_id DESC LIMIT 1")
        run_id = latest[0]["match_run_id"] if latest else None
    edges, not_same = _edges(ctx, p, run_id)
    awaiting = _awaiting_review(ctx, run_id) if p.include_clusters and run_id is not None else 0
    patients = {r["patient_id"]: r for r in ctx.rows(f"SELECT {', '.join(PATIENT_COLS)} FROM patients")}  # noqa: S608

    def root(pid: str) -> str:
        seen = set()
        while pid in patients and patients[pid]["merged_into"] and pid not in seen:
            seen.add(pid)
            pid = patients[pid]["merged_into"]
        return pid

    uf = UnionFind()
    notes: list[str] = []
    excluded = 0
    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        if _pair(ra, rb) in not_same or _pair(a, b) in not_same:
            excluded += 1
            notes.append(english("note.pair_not_same", a=a, b=b))
            continue
        if ra not in patients or rb not in patients:
            notes.append(english("note.pair_unknown", a=a, b=b))
            continue
        uf.union(ra, rb)
    keys = p.survivorship_keys()
    changes: list[Change] = []
    merged: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (survivor, loser)
    outputs: list[Output] = []
    skipped = 0
    for group in uf.groups():
        members = [patients[g] for g in group]
        conflict = next(((a, b) for a in group for b in group if a < b and (a, b) in not_same), None)
        if conflict:
            skipped += 1
            notes.append(english("note.group_not_same", group=", ".join(group), a=conflict[0], b=conflict[1]))
            continue
        if any(not m["active"] for m in members):
            skipped += 1
            notes.append(english("note.group_inactive", group=", ".join(group)))
            continue
        if p.auto_merge and any(m["identity_status"] not in ("QUAL", "VALI") for m in members):
            skipped += 1
            notes.append(english("note.group_not_qualified", group=", ".join(group)))
            continue
        members.sort(key=lambda m: _sort_key(m, keys))
        survivor, losers = dict(members[0]), members[1:]
        for loser in losers:
            lid = loser["patient_id"]
            changes.append(Change("patients", {"patient_id": lid},
                                  {"active": True, "merged_into": None},
                                  {"active": False, "merged_into": survivor["patient_id"]}, origin=lid))
            if p.complete_fields:
                before, after = {}, {}
                for block in COMPLETABLE:
                    if all(_empty(survivor[c]) for c in block) and any(not _empty(loser[c]) for c in block) \
                            and _strict_from_weaker(block, survivor, loser):
                        notes.append(english("note.strict_not_filled", survivor=survivor["patient_id"],
                                             fields=", ".join(block), loser=lid,
                                             loser_status=loser["identity_status"] or "no status",
                                             kept=survivor["identity_status"]))
                        continue
                    if all(_empty(survivor[c]) for c in block) and any(not _empty(loser[c]) for c in block):
                        for c in block:
                            before[c], after[c] = survivor[c], loser[c]
                            survivor[c] = loser[c]
                if after:
                    changes.append(Change("patients", {"patient_id": survivor["patient_id"]}, before, after,
                                          origin=lid))
            merged.append((survivor, loser))  # survivor as completed by the end of its group
    losers_all = [c.key["patient_id"] for c in changes if c.table == "patients" and c.cols == "active,merged_into"]
    for table, key in (("documents", "document_id"), ("audit_events", "event_id")):
        survivor_of = {c.key["patient_id"]: c.after["merged_into"] for c in changes
                       if c.table == "patients" and c.after and "merged_into" in c.after}
        for r in ctx.rows(
            f"SELECT {key} AS k, patient_id FROM {table} WHERE list_contains(?, patient_id) ORDER BY {key}",  # noqa: S608
            [losers_all],
        ):
            changes.append(Change(table, {key: r["k"]}, {"patient_id": r["patient_id"]},
                                  {"patient_id": survivor_of[r["patient_id"]]}, origin=r["patient_id"]))
    outputs += merge_outputs(ctx.con, merged, now=ctx.now, operator=ctx.actor.username, params={
        "sending_facility": p.sending_facility, "receiving_application": p.receiving_application,
        "receiving_facility": p.receiving_facility})
    counts = {
        "groups merged": len(uf.groups()) - skipped,
        "identities deactivated": len(losers_all),
        "survivors completed": sum(1 for c in changes if c.table == "patients" and c.cols != "active,merged_into"),
        "documents re-pointed": sum(1 for c in changes if c.table == "documents"),
        "audit events re-pointed": sum(1 for c in changes if c.table == "audit_events"),
        "groups skipped": skipped,
        "pairs marked not the same": excluded,
        "pairs awaiting a reviewer": awaiting,
    }
    if run_id is None and p.include_clusters:
        notes.append(english("note.no_match_run"))
    return ChangeSet(changes=changes, outputs=outputs, counts=counts, notes=notes)
