"""RNIV identity attributes and the traits an INS (NIR) encodes.

**Identity attributes** (PAM France / FR Core identity reliability; RNIV): codes stored in
``patients.identity_attributes``, separated by spaces, ``|``, ``,`` or ``;``:

* ``DOUT`` identité douteuse (suspected false), ``FICT`` identité fictive (an alias on purpose:
  anonymous birth, VIP, test): never merged without a person deciding → never ``match``;
* ``HOMD`` homonyme détecté: shown in the comparison; ``HOMA`` homonyme avéré: the CIV checked
  these homonyms, a pair of two HOMA identities is not proposed again;
* the link-level codes ``DPOT``/``DOUA`` (doublon potentiel/avéré), ``COLP``/``COLV`` (collision
  potentielle/avérée) and ``DESA`` (désactivée) are known too (kept, no rule of their own yet).

Any other code is kept as written and reported as an import finding.

**INS coherence.** The NIR (13 characters + key) encodes sex (1st digit: 1/3/7 male, 2/4/8
female), birth year (2 digits) and month (01–12; 20 or more: unknown month), and birth place
(département + commune, the INSEE code; 99 + country code for a birth abroad; Corsica 2A/2B,
written 20 before 1976). A mismatch with the recorded traits is an import finding and, in a
pair where only one record carries an INS, the ``ins`` level ``traits_differ``.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["ATTRIBUTE_CODES", "DOUBTFUL", "FICTITIOUS", "HOMA", "HOMD", "attribute_bits", "attribute_bits_sql",
           "nir_mismatches", "normalise_attributes", "normalise_attributes_sql", "unknown_attributes",
           "unknown_attributes_sql"]

#: Known codes and their meaning (French labels live in dashboard/i18n.py).
ATTRIBUTE_CODES = {
    "DOUT": "doubtful identity", "FICT": "fictitious identity", "HOMD": "homonym detected",
    "HOMA": "homonym confirmed", "DPOT": "potential duplicate", "DOUA": "confirmed duplicate",
    "COLP": "potential collision", "COLV": "confirmed collision", "DESA": "deactivated",
}
#: Bits of an identity's attributes, as loaded for matching.
FICTITIOUS, DOUBTFUL, HOMD, HOMA = 1, 2, 4, 8
_BITS = {"FICT": FICTITIOUS, "DOUT": DOUBTFUL, "HOMD": HOMD, "HOMA": HOMA}
_SEPARATORS = r"[\s|,;]+"


def normalise_attributes(raw: str | None) -> str | None:
    """Upper-case codes separated by one space, in the given order, repeats removed."""
    codes = [c for c in re.split(_SEPARATORS, (raw or "").upper()) if c]
    return " ".join(dict.fromkeys(codes)) or None


def unknown_attributes(raw: str | None) -> list[str]:
    """Codes of ``raw`` that are not identity attribute codes."""
    return [c for c in (normalise_attributes(raw) or "").split(" ") if c and c not in ATTRIBUTE_CODES]


def normalise_attributes_sql(expr: str) -> str:
    """SQL of :func:`normalise_attributes` (repeats kept: harmless)."""
    return f"nullif(trim(regexp_replace(upper(coalesce({expr}, '')), '{_SEPARATORS}', ' ', 'g')), '')"


def unknown_attributes_sql(expr: str) -> str:
    """SQL: the unknown codes of ``expr``, space-separated, NULL when none."""
    known = ", ".join(f"'{c}'" for c in ATTRIBUTE_CODES)
    return (f"nullif(array_to_string(list_filter(string_split({normalise_attributes_sql(expr)}, ' '), "
            f"lambda c: c NOT IN ({known})), ' '), '')")


def attribute_bits_sql(expr: str) -> str:
    """SQL: the attribute bits (FICT 1, DOUT 2, HOMD 4, HOMA 8) of a normalised codes column."""
    terms = [f"CASE WHEN list_contains(string_split(coalesce({expr}, ''), ' '), '{code}') THEN {bit} ELSE 0 END"
             for code, bit in _BITS.items()]
    return "(" + " + ".join(terms) + ")"


def attribute_bits(values: np.ndarray) -> np.ndarray:
    """:func:`attribute_bits_sql` for values held in Python."""
    out = np.zeros(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        codes = set((v or "").split(" ")) if isinstance(v, str) else set()
        out[i] = sum(bit for code, bit in _BITS.items() if code in codes)
    return out


# ---------------------------------------------------------------- NIR traits
_NIR_SEX = {"1": "M", "3": "M", "7": "M", "2": "F", "4": "F", "8": "F"}


def nir_traits_sql(ins: str) -> dict[str, str]:
    """SQL expressions decoding an INS column: sex ('M'/'F'), birth year mod 100, month (NULL
    when the NIR says unknown), birth département (2 characters; '20' for old Corsican NIRs)."""
    return {
        "nir_sex": f"CASE left({ins}, 1) WHEN '1' THEN 'M' WHEN '3' THEN 'M' WHEN '7' THEN 'M' "
                   f"WHEN '2' THEN 'F' WHEN '4' THEN 'F' WHEN '8' THEN 'F' END",
        "nir_yy": f"CASE WHEN regexp_full_match(substr({ins}, 2, 2), '[0-9]{{2}}') THEN substr({ins}, 2, 2)::INTEGER END",
        "nir_mm": f"CASE WHEN regexp_full_match(substr({ins}, 4, 2), '0[1-9]|1[0-2]') THEN substr({ins}, 4, 2)::INTEGER END",
        "nir_dept": f"nullif(substr({ins}, 6, 2), '')",
    }


def _dept_agrees(nir_dept: str | None, place: str | None) -> bool | None:
    if not nir_dept or not place:
        return None
    if nir_dept == "20" and place[:2] in ("2A", "2B", "20"):
        return True
    return nir_dept == place[:2]


def nir_mismatches(ins: str | None, sex: str | None, birth_date, birth_place: str | None) -> list[str]:
    """Traits that the INS contradicts: a sub-list of ['sex', 'birth year', 'birth month',
    'birth place']; [] when coherent or not checkable."""
    nir = re.sub(r"\s", "", ins or "").upper()
    if len(nir) < 13:
        return []
    out = []
    if sex in ("M", "F") and _NIR_SEX.get(nir[0]) not in (None, sex):
        out.append("sex")
    if birth_date is not None and nir[1:3].isdigit() and int(nir[1:3]) != birth_date.year % 100:
        out.append("birth year")
    if (birth_date is not None and re.fullmatch("0[1-9]|1[0-2]", nir[3:5]) and int(nir[3:5]) != birth_date.month
            and not (birth_date.month == 1 and birth_date.day == 1)):
        out.append("birth month")
    if _dept_agrees(nir[5:7], (birth_place or "").upper() or None) is False:
        out.append("birth place")
    return out
