"""archive-duplicate-documents: archive (never delete) duplicate documents, keep the best one."""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.errors import InvalidInput
from analytics.jobs.registry import Change, ChangeSet, JobContext, job
from analytics.messages import english

KINDS = ("exact", "near", "retyped")


class UnionFind:
    """Connected components over string ids (duplicate pairs → groups)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return [sorted(g) for g in out.values() if len(g) > 1]


@dataclass(frozen=True)
class ArchiveParams:
    kinds: str = field(default="exact,near", metadata={"help": "duplicate kinds to archive (exact,near,retyped)",
                                                       "choices": KINDS, "multiple": True})
    match_run_id: str | None = field(default=None, metadata={"help": "duplicate-detection run (default: latest)"})

    def validate(self) -> None:
        bad = [k for k in self.kinds_list() if k not in KINDS]
        if bad or not self.kinds_list():
            raise InvalidInput("param.kinds", value=repr(self.kinds), allowed=", ".join(KINDS))

    def kinds_list(self) -> list[str]:
        return [k.strip() for k in self.kinds.split(",") if k.strip()]


@job("archive-duplicate-documents", params=ArchiveParams, reads=("documents", "document_duplicates"))
def archive_duplicate_documents(ctx: JobContext, p: ArchiveParams) -> ChangeSet:
    """Archive exact and near duplicate documents (status 'archived'), keeping one per group.

    The kept document is the signed one first, then the most complete (filled fields, text
    length), then the oldest. Nothing is deleted; undo puts the previous status back.
    """
    run_id = p.match_run_id
    if run_id is None:
        row = ctx.rows("SELECT match_run_id FROM document_duplicates ORDER BY match_run_id DESC LIMIT 1")
        run_id = row[0]["match_run_id"] if row else None
    if run_id is None:
        return ChangeSet(counts={"groups": 0, "documents archived": 0}, notes=[english("note.no_duplicate_documents")])
    pairs = ctx.rows(
        "SELECT document_id_1, document_id_2 FROM document_duplicates WHERE match_run_id = ? AND list_contains(?, kind)",
        [run_id, p.kinds_list()],
    )
    uf = UnionFind()
    for pair in pairs:
        uf.union(pair["document_id_1"], pair["document_id_2"])
    ids = sorted(uf.parent)
    docs = {
        r["document_id"]: r
        for r in ctx.rows(
            "SELECT document_id, status, "
            "(signed_at IS NOT NULL OR status IN ('signed', 'sent')) AS is_signed, "
            "(CASE WHEN patient_id IS NULL THEN 0 ELSE 1 END + CASE WHEN document_type IS NULL THEN 0 ELSE 1 END "
            " + CASE WHEN title IS NULL THEN 0 ELSE 1 END + CASE WHEN author_id IS NULL THEN 0 ELSE 1 END "
            " + CASE WHEN service IS NULL THEN 0 ELSE 1 END + CASE WHEN stay_id IS NULL THEN 0 ELSE 1 END) AS filled, "
            "coalesce(length(text), 0) AS text_length, created_at "
            "FROM documents WHERE list_contains(?, document_id)",
            [ids],
        )
    }
    changes: list[Change] = []
    groups = 0
    notes: list[str] = []
    for group in uf.groups():
        live = [docs[d] for d in group if d in docs and docs[d]["status"] != "archived"]
        missing = [d for d in group if d not in docs]
        if missing:
            notes.append(english("note.documents_missing", documents=", ".join(missing)))
        if len(live) < 2:
            continue
        groups += 1
        live.sort(key=lambda d: (not d["is_signed"], -d["filled"], -d["text_length"],
                                 d["created_at"] is None, d["created_at"] or 0, d["document_id"]))
        keeper = live[0]["document_id"]
        for doc in live[1:]:
            changes.append(Change("documents", {"document_id": doc["document_id"]},
                                  {"status": doc["status"]}, {"status": "archived"}, origin=f"kept {keeper}"))
    return ChangeSet(changes=changes, counts={"groups": groups, "documents archived": len(changes)}, notes=notes)
