"""The data page's import findings keep the raw value of a faulty cell: for an identity column (a
malformed INS, an e-mail, a birth date) that value is still the person's, so a role without
identity access (analyst) gets it masked; the column, the line and the problem stay."""

from __future__ import annotations

from analytics import importing
from analytics.access.roles import Actor, system_actor
from analytics.importing import import_file
from tests.analytics.importing.helpers import write_text

ROWS = "IPP;NOM_NAISSANCE;PRENOM;SEXE;MAIL;DATE_NAISSANCE;INS\nP1;MARTIN;Jean;Q;jean(at)free.fr;31/02/1980;1850\n"


def _findings(con, tmp_path, role: str) -> dict[str, str | None]:
    report = import_file(con, "patients", write_text(tmp_path, "p.csv", ROWS), actor=system_actor())
    frame = importing.import_findings(con, Actor(f"u-{role}", role), report.import_id, 50)
    return dict(zip(frame["column_name"], frame["raw_value"], strict=True))


def test_analyst_gets_identity_raw_values_masked(con, tmp_path):
    assert _findings(con, tmp_path, "analyst") == {"ins": "***", "email": "***", "birth_date": "***", "sex": "Q"}


def test_manager_gets_the_raw_values(con, tmp_path):
    """The control: the same findings as the identity-vigilance cell reads them."""
    assert _findings(con, tmp_path, "manager") == {"ins": "1850", "email": "jean(at)free.fr", "birth_date": "31/02/1980",
                                                     "sex": "Q"}
