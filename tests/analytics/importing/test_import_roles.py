"""An import made on behalf of an account checks its role and is written to the access log."""

from __future__ import annotations

import pytest

from analytics.access.roles import Actor
from analytics.errors import AccessDenied
from analytics.importing import import_file

CSV = "IPP;NOM_NAISSANCE;PRENOMS;DATE_NAISSANCE;SEXE\n1001;DUPONT;MARIE;12/03/1958;F\n"


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_roles_without_import_right_are_refused_and_nothing_changes(con, tmp_path, role):
    path = tmp_path / "patients.csv"
    path.write_text(CSV, encoding="cp1252")
    with pytest.raises(AccessDenied) as err:
        import_file(con, "patients", path, actor=Actor("bob", role))
    assert str(err.value) == f"bob (role {role}) may not import data"
    assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 0


def test_manager_import_is_logged(con, tmp_path):
    path = tmp_path / "patients.csv"
    path.write_text(CSV, encoding="cp1252")
    report = import_file(con, "patients", path, actor=Actor("marc", "manager"))
    assert report.rows_inserted == 1
    assert con.execute("SELECT actor FROM imports").fetchall() == [("marc",)]
    logged = con.execute(
        "SELECT actor, action, object, row_count FROM access_log WHERE action = 'import'"
    ).fetchall()
    assert logged == [("marc", "import", "patients", 1)]
