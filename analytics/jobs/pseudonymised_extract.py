"""pseudonymised-extract: an analyst extract with keyed pseudonyms and k-anonymity enforced.

The "change set" of this job is the extract description and its files: no warehouse row is
changed. Undo deletes the files it wrote (refused if one was modified since).
Column rules come from :mod:`analytics.pseudonymise` (one place for the whole project), k from
:mod:`analytics.privacy.kanon`, checked on the *joined* view of every file delivered (documents
and audit events carry their patient's quasi-identifiers through the pseudonym), and the CSV
writer is :func:`analytics.exports.to_csv_bytes`, the one that neutralises formulas.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from analytics.access.roles import Permission, allowed, require
from analytics.errors import AccessDenied, InvalidInput, JobError, KAnonymityRefused
from analytics.exports import to_csv_bytes
from analytics.jobs.registry import ChangeSet, JobContext, Output, job
from analytics.messages import english
from analytics.privacy import kanon
from analytics.pseudonymise import domain_key, pseudonymise_frame, secret_for

TABLES = ("patients", "documents", "audit_events")


@dataclass(frozen=True)
class ExtractParams:
    tables: str = field(default="patients", metadata={"help": "comma list of patients, documents, audit_events",
                                                      "choices": TABLES, "multiple": True})
    columns: str = field(default="", metadata={"help": "optional table.column list to keep (default: all)"})
    k: int | None = field(default=None, metadata={
        "help": "smallest group size on the quasi-identifiers (default: setting privacy.k; lower: admin only)",
        "min": 2})
    birth_date: Literal["year", "age_band"] = field(default="year", metadata={"help": "birth year or 10-year age band"})
    on_small_groups: Literal["refuse", "generalise"] = field(
        default="refuse", metadata={"help": "below k: refuse, or generalise further then suppress"})
    staff: Literal["keep", "pseudonymise"] = field(
        default="pseudonymise", metadata={"help": "clinicians' identifiers (keep: admin only)"})
    only_active: bool = field(default=True, metadata={"help": "leave merged identities out"})
    domain: str = field(default="", metadata={
        "help": "pseudonym domain (admin only; default: a new one, so two extracts cannot be joined)"})

    def validate(self) -> None:
        bad = [t for t in self.table_list() if t not in TABLES]
        if bad or not self.table_list():
            raise InvalidInput("param.extract_tables", value=repr(self.tables), allowed=", ".join(TABLES))
        if self.k is not None and self.k < 2:
            raise InvalidInput("param.extract_k", k=self.k)
        for item in self.column_list():
            if "." not in item or item.split(".", 1)[0] not in self.table_list():
                raise InvalidInput("param.extract_column", column=repr(item))

    def table_list(self) -> list[str]:
        return [t.strip() for t in self.tables.split(",") if t.strip()]

    def column_list(self) -> list[str]:
        return [c.strip() for c in self.columns.split(",") if c.strip()]


def _band(years: pd.Series, width: int) -> pd.Series:
    lo = (years // width) * width
    return (lo.astype("string") + "-" + (lo + width - 1).astype("string")).astype(object)


def _first_groups(frames: dict[str, pd.DataFrame], k: int) -> None:
    """``on_small_groups=refuse``: refuse when the patients file, as pseudonymised, has a group
    smaller than k (before any further generalisation)."""
    patients = frames.get("patients")
    if patients is None:
        return
    present = [c for c in kanon.PATIENT_QI if c in patients.columns]
    if not present or patients.empty:
        return
    smallest = int(patients.groupby(present, dropna=False).size().min())
    if smallest < k:
        raise JobError("extract.small_groups", columns=", ".join(present), n=smallest, k=k)


def _check_rights(ctx: JobContext, p: ExtractParams, k: int, setting: int) -> None:
    admin = allowed(ctx.actor, Permission.EXPORT_IDENTIFIED)
    if k < setting and not admin:
        raise AccessDenied("access.denied", user=ctx.actor.username, role=ctx.actor.role,
                           action=english("privacy.lower_k", k=setting))
    if p.domain and not admin:
        raise AccessDenied("access.denied", user=ctx.actor.username, role=ctx.actor.role,
                           action=english("privacy.choose_domain"))
    if p.staff == "keep" and not admin:
        raise AccessDenied("access.denied", user=ctx.actor.username, role=ctx.actor.role,
                           action=english("privacy.keep_staff"))


@job("pseudonymised-extract", params=ExtractParams, reads=TABLES, undo_removes_outputs=True)
def pseudonymised_extract(ctx: JobContext, p: ExtractParams) -> ChangeSet:
    """Write an analyst extract: HMAC-SHA-256 pseudonyms, generalised dates and places, k enforced.

    Direct identifiers are dropped, birth dates become a year (or an age band), postcodes a
    département, time stamps a date or coarser; k-anonymity is enforced on the joined view of
    all the files (generalise, then suppress, refuse beyond the allowed share). Each extract
    has its own pseudonym domain unless an administrator names one. The secret stays outside
    the warehouse.
    """
    require(ctx.actor, Permission.EXPORT_PSEUDONYMISED)
    settings = kanon.privacy_settings(ctx.con)
    k = p.k if p.k is not None else settings.k
    _check_rights(ctx, p, k, settings.k)
    secret = secret_for(ctx.con)
    domain = p.domain or f"extract:{secrets.token_hex(8)}"
    key, staff_key = domain_key(secret, domain), domain_key(secret, "staff:" + domain)
    key_id = hmac.new(secret, b"hygie-key-id", hashlib.sha256).hexdigest()[:12]
    wanted = p.column_list()
    notes: list[str] = []
    counts: dict[str, int] = {}
    description: dict[str, object] = {"secret_key_id": key_id, "domain": domain, "k": k,
                                      "created_at": ctx.now.isoformat(), "tables": {}}
    pseudonymised: dict[str, pd.DataFrame] = {}
    sources: dict[str, list[str]] = {}
    for table in p.table_list():
        where = " WHERE active" if table == "patients" and p.only_active else ""
        frame = ctx.con.execute(f'SELECT * FROM "{table}"{where}').df()  # noqa: S608 - allow-listed
        chosen = [c.split(".", 1)[1] for c in wanted if c.startswith(table + ".")]
        if chosen:
            missing = [c for c in chosen if c not in frame.columns]
            if missing:
                raise InvalidInput("param.extract_no_column", table=table, column=missing[0])
            frame = frame[chosen]
        birth = frame["birth_date"] if "birth_date" in frame.columns else None
        out = pseudonymise_frame(frame, key, {"ins": "drop"}, staff=p.staff,  # the pseudonym links; no INS
                                 staff_secret=staff_key)
        if birth is not None and p.birth_date == "age_band":
            age = (ctx.now.year - pd.to_datetime(birth).dt.year).astype("Int64")
            out = out.drop(columns="birth_year").assign(age_band=_band(age, 10))
        pseudonymised[table] = out
        sources[table] = list(frame.columns)
    if p.on_small_groups == "refuse":
        _first_groups(pseudonymised, k)
    try:
        files, plan = kanon.enforce(pseudonymised, k=k, max_suppressed_share=settings.max_suppressed_share,
                                    patients="patients" if "patients" in pseudonymised else None)
    except KAnonymityRefused as exc:
        raise JobError("extract.refused", message=str(exc)) from None
    notes += plan.notes()
    outputs: list[Output] = []
    for table, out in files.items():
        outputs.append(Output(f"{table}.csv", to_csv_bytes(out, "standard")))
        counts[f"{table} rows"] = len(out)
        suppressed = len(plan.suppressed.get(table, []))
        if suppressed:
            counts[f"{table} rows suppressed"] = suppressed
        description["tables"][table] = {  # type: ignore[index]
            "source_columns": sources[table], "columns": [str(c) for c in out.columns], "rows": len(out)}
    description["k_smallest_group"] = plan.smallest_group
    description["quasi_identifiers"] = plan.quasi_identifiers
    description["privacy"] = plan.report()
    description["notes"] = notes
    outputs.append(Output("extract_description.json",
                          json.dumps(description, ensure_ascii=False, indent=2, default=str).encode("utf-8")))
    counts["files"] = len(outputs)
    return ChangeSet(outputs=outputs, counts=counts, notes=notes)
