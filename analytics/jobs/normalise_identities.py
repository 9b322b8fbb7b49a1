"""normalise-identities: uppercase/trim names, one phone format, trimmed lower-case e-mails."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import phonenumbers

from analytics.jobs.registry import Change, ChangeSet, JobContext, job
from analytics.messages import english

NAME_FIELDS = ("birth_name", "used_name", "first_names", "used_first_name")
_SPACES = re.compile(r"\s+")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_FORMATS = {
    "E164": phonenumbers.PhoneNumberFormat.E164,
    "INTERNATIONAL": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "NATIONAL": phonenumbers.PhoneNumberFormat.NATIONAL,
}


@dataclass(frozen=True)
class NormaliseParams:
    phone_format: Literal["E164", "INTERNATIONAL", "NATIONAL"] = field(
        default="E164", metadata={"help": "phone format written back"})
    region: str = field(default="FR", metadata={"help": "region assumed for numbers without a country code"})
    strip_accents: bool = field(default=False, metadata={"help": "also remove accents from names"})
    only_active: bool = field(default=True, metadata={"help": "leave merged (inactive) identities alone"})


def normalise_name(value: str | None, strip_accents: bool = False) -> str | None:
    """Trim, collapse inner spaces and uppercase; empty becomes NULL."""
    if value is None:
        return None
    text = _SPACES.sub(" ", value).strip()
    text = re.sub(r"\s*-\s*", "-", text)
    if strip_accents:
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return text.upper() or None


def normalise_phone(value: str | None, region: str, fmt: str) -> tuple[str | None, bool]:
    """(formatted number, parsed ok). Unparseable or invalid numbers are returned unchanged."""
    if value is None or not value.strip():
        return (None if value is None else value), True
    if fmt == "E164" and _E164.fullmatch(value):
        return value, True  # already normalised (nightly re-runs): no parse needed
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value, False
    if not phonenumbers.is_valid_number(number):
        return value, False
    return phonenumbers.format_number(number, _FORMATS[fmt]), True


@job("normalise-identities", params=NormaliseParams, reads=("patients",))
def normalise_identities(ctx: JobContext, p: NormaliseParams) -> ChangeSet:
    """Uppercase and trim names, write phones in one format (phonenumbers), trim/lower e-mails.

    Originals stay in the change log; numbers that do not parse are left as they are and
    listed in the notes for a human to fix.
    """
    where = "WHERE active" if p.only_active else ""
    rows = ctx.rows(
        f"SELECT patient_id, {', '.join(NAME_FIELDS)}, phone, email FROM patients {where} ORDER BY patient_id"  # noqa: S608
    )
    phone_cache: dict[str, tuple[str | None, bool]] = {}
    changes: list[Change] = []
    counts = {"identities changed": 0, "names": 0, "phones": 0, "emails": 0, "phones not understood": 0}
    bad_phones: list[str] = []
    for row in rows:
        before: dict[str, object] = {}
        after: dict[str, object] = {}
        for name in NAME_FIELDS:
            new = normalise_name(row[name], p.strip_accents)
            if new != row[name]:
                before[name], after[name] = row[name], new
                counts["names"] += 1
        phone = row["phone"]
        if phone is not None:
            if phone not in phone_cache:
                phone_cache[phone] = normalise_phone(phone, p.region, p.phone_format)
            new_phone, ok = phone_cache[phone]
            if not ok:
                counts["phones not understood"] += 1
                bad_phones.append(row["patient_id"])
            elif new_phone != phone:
                before["phone"], after["phone"] = phone, new_phone
                counts["phones"] += 1
        email = row["email"]
        if email is not None:
            new_email = email.strip().lower() or None
            if new_email != email:
                before["email"], after["email"] = email, new_email
                counts["emails"] += 1
        if after:
            counts["identities changed"] += 1
            changes.append(Change("patients", {"patient_id": row["patient_id"]}, before, after))
    notes = []
    if bad_phones:
        shown = ", ".join(bad_phones[:10]) + (" ..." if len(bad_phones) > 10 else "")
        notes.append(english("note.phones_unchanged", phones=shown))
    return ChangeSet(changes=changes, counts=counts, notes=notes)
