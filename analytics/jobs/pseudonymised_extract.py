"""pseudonymised-extract: an analyst extract with keyed pseudonyms and a k-anonymity check.

The "change set" of this job is the extract description and its files: no warehouse row is
changed. Undo deletes the files it wrote (refused if one was modified since).
Column rules come from :mod:`analytics.pseudonymise` (one place for the whole project).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from analytics.access.roles import Permission, require
from analytics.errors import InvalidInput, JobError
from analytics.jobs.registry import ChangeSet, JobContext, Output, job
from analytics.pseudonymise import pseudonymise_frame, secret_for

TABLES = ("patients", "documents", "audit_events")
QUASI = ("birth_year", "birth_period", "age_band", "sex", "departement", "birth_departement")


@dataclass(frozen=True)
class ExtractParams:
    tables: str = field(default="patients", metadata={"help": "comma list of patients, documents, audit_events"})
    columns: str = field(default="", metadata={"help": "optional table.column list to keep (default: all)"})
    k: int = field(default=5, metadata={"help": "smallest group size allowed on the quasi-identifiers"})
    birth_date: Literal["year", "age_band"] = field(default="year", metadata={"help": "birth year or 10-year age band"})
    on_small_groups: Literal["refuse", "generalise"] = field(
        default="refuse", metadata={"help": "below k: refuse, or generalise further then suppress"})
    staff: Literal["keep", "pseudonymise"] = field(default="keep", metadata={"help": "clinicians' identifiers"})
    only_active: bool = field(default=True, metadata={"help": "leave merged identities out"})

    def validate(self) -> None:
        bad = [t for t in self.table_list() if t not in TABLES]
        if bad or not self.table_list():
            raise InvalidInput(f"job pseudonymised-extract: tables={self.tables!r}: use {', '.join(TABLES)}")
        if self.k < 2:
            raise InvalidInput(f"job pseudonymised-extract: k={self.k} must be at least 2")
        for item in self.column_list():
            if "." not in item or item.split(".", 1)[0] not in self.table_list():
                raise InvalidInput(f"job pseudonymised-extract: column {item!r} must be table.column "
                                   "with a table in tables")

    def table_list(self) -> list[str]:
        return [t.strip() for t in self.tables.split(",") if t.strip()]

    def column_list(self) -> list[str]:
        return [c.strip() for c in self.columns.split(",") if c.strip()]


def _k(frame: pd.DataFrame) -> tuple[int | None, list[str]]:
    present = [c for c in QUASI if c in frame.columns]
    if not present or frame.empty:
        return None, present
    return int(frame.groupby(present, dropna=False).size().min()), present


def _band(years: pd.Series, width: int) -> pd.Series:
    lo = (years // width) * width
    return (lo.astype("string") + "-" + (lo + width - 1).astype("string")).astype(object)


def _generalise(frame: pd.DataFrame, k: int, notes: list[str]) -> tuple[pd.DataFrame, int]:
    """Coarsen the quasi-identifiers step by step until every group has k rows, then suppress."""
    steps = []
    if "birth_year" in frame.columns:
        steps += [("birth years → 10-year periods", lambda f: f.assign(birth_period=_band(f["birth_year"], 10))
                   .drop(columns="birth_year")),
                  ("birth periods → 20 years", lambda f: f.assign(birth_period=_band(
                      f["birth_period"].str.slice(0, 4).astype("Int64"), 20)))]
    steps += [("birth département dropped", lambda f: f.drop(columns="birth_departement", errors="ignore")),
              ("département dropped", lambda f: f.drop(columns="departement", errors="ignore"))]
    for label, step in steps:
        smallest, _ = _k(frame)
        if smallest is None or smallest >= k:
            break
        frame = step(frame)
        notes.append(f"generalised: {label}")
    smallest, present = _k(frame)
    suppressed = 0
    if smallest is not None and smallest < k:
        sizes = frame.groupby(present, dropna=False)[present[0]].transform("size")
        suppressed = int((sizes < k).sum())
        frame = frame[sizes >= k]
        notes.append(f"suppressed {suppressed} row(s) still in groups smaller than k={k}")
    return frame, suppressed


@job("pseudonymised-extract", params=ExtractParams, reads=TABLES, undo_removes_outputs=True)
def pseudonymised_extract(ctx: JobContext, p: ExtractParams) -> ChangeSet:
    """Write an analyst extract: HMAC-SHA-256 pseudonyms, generalised dates and places, k-anonymity.

    Direct identifiers are dropped, birth dates become a year (or an age band), postcodes a
    département; the patients file is refused (or generalised further) when a combination of
    quasi-identifiers is shared by fewer than k people. The secret stays outside the warehouse.
    """
    require(ctx.actor, Permission.EXPORT_PSEUDONYMISED)
    secret = secret_for(ctx.con)
    key_id = hmac.new(secret, b"hygie-key-id", hashlib.sha256).hexdigest()[:12]
    wanted = p.column_list()
    outputs: list[Output] = []
    notes: list[str] = []
    counts: dict[str, int] = {}
    description: dict[str, object] = {"secret_key_id": key_id, "k": p.k, "created_at": ctx.now.isoformat(),
                                      "tables": {}}
    for table in p.table_list():
        where = " WHERE active" if table == "patients" and p.only_active else ""
        frame = ctx.con.execute(f'SELECT * FROM "{table}"{where}').df()  # noqa: S608 - allow-listed
        chosen = [c.split(".", 1)[1] for c in wanted if c.startswith(table + ".")]
        if chosen:
            missing = [c for c in chosen if c not in frame.columns]
            if missing:
                raise InvalidInput(f"job pseudonymised-extract: {table} has no column {missing[0]}")
            frame = frame[chosen]
        birth = frame["birth_date"] if "birth_date" in frame.columns else None
        out = pseudonymise_frame(frame, secret, {"ins": "drop"}, staff=p.staff)  # the pseudonym links; no INS
        if birth is not None and p.birth_date == "age_band":
            age = (ctx.now.year - pd.to_datetime(birth).dt.year).astype("Int64")
            out = out.drop(columns="birth_year").assign(age_band=_band(age, 10))
        suppressed = 0
        if table == "patients":
            smallest, present = _k(out)
            if smallest is not None and smallest < p.k:
                if p.on_small_groups == "refuse":
                    raise JobError(
                        f"pseudonymised-extract refused: some combinations of {', '.join(present)} are shared "
                        f"by only {smallest} patient(s), fewer than k={p.k}; use on_small_groups=generalise, "
                        "birth_date=age_band or fewer columns"
                    )
                out, suppressed = _generalise(out, p.k, notes)
            smallest, present = _k(out)
            description["k_smallest_group"] = smallest
            description["quasi_identifiers"] = present
        buf = io.StringIO()
        out.to_csv(buf, index=False, lineterminator="\n")
        outputs.append(Output(f"{table}.csv", buf.getvalue().encode("utf-8")))
        counts[f"{table} rows"] = len(out)
        if suppressed:
            counts[f"{table} rows suppressed"] = suppressed
        description["tables"][table] = {  # type: ignore[index]
            "source_columns": list(frame.columns), "columns": list(out.columns), "rows": len(out)}
    if "patients" not in p.table_list():
        notes.append("k-anonymity is measured on the patients file only; none in this extract")
    description["notes"] = notes
    outputs.append(Output("extract_description.json",
                          json.dumps(description, ensure_ascii=False, indent=2, default=str).encode("utf-8")))
    counts["files"] = len(outputs)
    return ChangeSet(outputs=outputs, counts=counts, notes=notes)
