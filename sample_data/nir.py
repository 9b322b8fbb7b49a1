"""NIR (numéro d'inscription au répertoire) construction and key check.

NIR = sex (1) + birth year (2) + month (2) + birth place (5, INSEE code; 99 + country code when
born abroad) + order number (3), followed by a 2-digit key 97 - (n mod 97), where Corsica's 2A
and 2B count as 19 and 18 (DOMAIN.md §1; the Corsica rule is noted there as unverified).
"""

from __future__ import annotations

_CORSICA = {"2A": "19", "2B": "18"}


def _numeric(body: str) -> int:
    """The 13-character body as an integer, with Corsica's letters replaced."""
    dept = body[5:7]
    if dept in _CORSICA:
        body = body[:5] + _CORSICA[dept] + body[7:]
    return int(body)


def nir_key(body: str) -> int:
    """The control key of a 13-character NIR body."""
    return 97 - _numeric(body) % 97


def make_nir(sex: str, year: int, month: int, place: str, order: int) -> str:
    """A 15-character NIR (body + key) for these traits."""
    body = f"{1 if sex == 'M' else 2}{year % 100:02d}{month:02d}{place}{order:03d}"
    return f"{body}{nir_key(body):02d}"


def is_valid_nir(value: str) -> bool:
    """True when ``value`` has 15 characters and a correct key."""
    if len(value) != 15 or not value[13:].isdigit():
        return False
    try:
        return nir_key(value[:13]) == int(value[13:])
    except ValueError:
        return False
