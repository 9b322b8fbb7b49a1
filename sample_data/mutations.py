"""How a duplicate record differs from its person's first record (DOMAIN.md §1).

Each mutation edits a record (a dict of canonical fields) in place and returns True, or returns
False when it does not apply to that record (no accent to lose, a single first name, ...).
Birth dates are ``datetime.date``; the phone is kept as digits plus a format number.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Callable

from sample_data.pools import PARTICLES

Record = dict[str, object]

PHONE_FORMATS = 4  # 06 12 34 56 78 / 0612345678 / 06.12.34.56.78 / +33 6 12 34 56 78


def format_phone(digits: str, fmt: int) -> str:
    """Write a 10-digit French number in one of the formats found in hospital files."""
    if not digits:
        return ""
    pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
    if fmt == 1:
        return digits
    if fmt == 2:
        return ".".join(pairs)
    if fmt == 3:
        return f"+33 {digits[1]} " + " ".join(pairs[1:])
    return " ".join(pairs)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _typo(rec: Record, rnd: random.Random) -> bool:
    field = rnd.choice(("birth_name", "first_names"))
    value = str(rec[field])
    positions = [i for i, ch in enumerate(value) if ch.isalpha()]
    if len(positions) < 3:
        return False
    i = rnd.choice(positions[1:])
    op = rnd.choice(("substitute", "delete", "double", "transpose"))
    if op == "substitute":
        new = value[:i] + rnd.choice("AEIOURSTNLMC".replace(value[i], "")) + value[i + 1 :]
    elif op == "delete":
        new = value[:i] + value[i + 1 :]
    elif op == "double":
        new = value[:i] + value[i] + value[i:]
    else:
        new = value[: i - 1] + value[i] + value[i - 1] + value[i + 1 :]
    if new == value:
        return False
    rec[field] = new
    return True


def _accents_lost(rec: Record, rnd: random.Random) -> bool:
    changed = False
    for field in ("birth_name", "used_name", "first_names", "used_first_name"):
        value = str(rec[field] or "")
        plain = strip_accents(value)
        if plain != value:
            rec[field] = plain
            changed = True
    return changed


def _case(rec: Record, rnd: random.Random) -> bool:
    lower = rnd.random() < 0.3
    for field in ("birth_name", "used_name", "first_names", "used_first_name"):
        value = str(rec[field] or "")
        rec[field] = value.lower() if lower else value.title()
    return True


def _hyphen_space(rec: Record, rnd: random.Random) -> bool:
    for field in ("birth_name", "first_names"):
        value = str(rec[field])
        if "'" in value:
            rec[field] = value.replace("'", rnd.choice((" ", "", "’")))
            return True
        if "-" in value:
            rec[field] = value.replace("-", " ")
            return True
        if field == "birth_name" and " " in value:
            rec[field] = value.replace(" ", "-")
            return True
    return False


def _particle(rec: Record, rnd: random.Random) -> bool:
    value = str(rec["birth_name"])
    for particle in PARTICLES:
        if value.startswith(particle) and len(value) > len(particle) + 2:
            rest = value[len(particle) :]
            glued = particle.replace(" ", "").replace("'", "") + rest
            rec["birth_name"] = rnd.choice((glued, rest, f"{rest} ({particle.strip()})"))
            return True
    return False


def _name_swap(rec: Record, rnd: random.Random) -> bool:
    if not rec["used_name"]:
        return False
    rec["birth_name"], rec["used_name"] = rec["used_name"], rec["birth_name"]
    return True


def _epouse(rec: Record, rnd: random.Random) -> bool:
    birth, used = rec["birth_name"], rec["used_name"]
    if not used or rec["sex"] != "F":
        return False
    forms = (
        f"{birth} épouse {used}", f"{birth} EPOUSE {used}", f"{birth} ép. {used}",
        f"{birth} EP {used}", f"{used} née {birth}", f"{used} NEE {birth}", f"{birth} veuve {used}",
    )
    form = rnd.choice(forms)
    if " née " in form.lower() or " nee " in form.lower():
        rec["used_name"] = form
        rec["birth_name"] = rnd.choice(("", used))
    else:
        rec["birth_name"] = form
        rec["used_name"] = rnd.choice(("", used))
    return True


def _first_names_reordered(rec: Record, rnd: random.Random) -> bool:
    names = str(rec["first_names"]).split(" ")
    if len(names) < 2:
        return False
    names[0], names[1] = names[1], names[0]
    rec["first_names"] = " ".join(names)
    return True


def _first_name_only(rec: Record, rnd: random.Random) -> bool:
    names = str(rec["first_names"]).split(" ")
    if len(names) < 2:
        return False
    rec["first_names"] = names[0]
    return True


def _date_swap(rec: Record, rnd: random.Random) -> bool:
    date = rec["birth_date"]
    assert isinstance(date, dt.date)
    if date.day > 12 or date.day == date.month:
        return False
    rec["birth_date"] = date.replace(day=date.month, month=date.day)
    return True


def _date_default(rec: Record, rnd: random.Random) -> bool:
    date = rec["birth_date"]
    assert isinstance(date, dt.date)
    if (date.day, date.month) == (1, 1):
        return False
    rec["birth_date"] = date.replace(day=1, month=1)
    return True


def _ins_missing(rec: Record, rnd: random.Random) -> bool:
    if not rec["ins"]:
        return False
    rec["ins"] = ""
    rec["identity_status"] = "PROV"
    return True


def _phone_format(rec: Record, rnd: random.Random) -> bool:
    if not rec["phone_digits"]:
        return False
    current = int(rec["phone_format"])  # type: ignore[call-overload]
    rec["phone_format"] = rnd.choice([f for f in range(PHONE_FORMATS) if f != current])
    return True


#: Duplicate kinds and their relative frequency among duplicates.
MUTATIONS: dict[str, tuple[Callable[[Record, random.Random], bool], float]] = {
    "typo": (_typo, 18),
    "accents_lost": (_accents_lost, 9),
    "case": (_case, 7),
    "hyphen_space": (_hyphen_space, 6),
    "particle": (_particle, 4),
    "name_swap": (_name_swap, 8),
    "epouse": (_epouse, 7),
    "first_names_reordered": (_first_names_reordered, 5),
    "first_name_only": (_first_name_only, 7),
    "date_swap": (_date_swap, 6),
    "date_default": (_date_default, 4),
    "ins_missing": (_ins_missing, 6),
    "phone_format": (_phone_format, 8),
}

#: Kinds that may be combined with a first one on the same duplicate.
SECONDARY = ("typo", "case", "accents_lost", "phone_format", "first_name_only", "date_swap")
