"""Imports from the page: upload limits, server-chosen file names, report; roles."""

from __future__ import annotations

import pytest

from dashboard.uploads import safe_name
from tests.dashboard.conftest import query

STAFF_CSV = "user_id;display_name;role;service\r\nU9;Dr Neuf;physician;Pédiatrie\r\n".encode("cp1252")


@pytest.mark.parametrize(
    ("description", "name", "expected"),
    [
        ("plain name kept", "patients.csv", "patients.csv"),
        ("folders dropped", "../../etc/passwd", "passwd"),
        ("windows folders dropped", "C:\\\\temp\\\\x.csv", "x.csv"),
        ("unsafe characters replaced", "é t;é.csv", "__t__.csv"),
        ("hidden file made visible", ".bashrc", "bashrc"),
    ],
)
def test_safe_name(description, name, expected):
    assert safe_name(name) == expected, description


def _staff_rows(db) -> int:
    return query(db, "SELECT count(*) FROM staff")[0][0]


def test_manager_uploads_a_french_csv_and_sees_the_report(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/data.py").run()
    at.selectbox(key="data_table").select("staff")
    at.file_uploader(key="data_upload").upload("../../etc/staff.csv", STAFF_CSV, "text/csv")
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert _staff_rows(fresh_warehouse) == 3
    assert "Import terminé." in [s.value for s in at.success]
    files = at.dataframe[0].value["file_name"].tolist()
    assert files[0] == "staff.csv"  # the safe name, never the user's path


@pytest.mark.parametrize("role", ["analyst", "viewer"])
def test_roles_without_import_see_no_upload(app, warehouse, role):
    at = app(warehouse, role).run()
    at.switch_page("views/data.py").run()
    assert not at.file_uploader
    assert at.subheader[0].value == "Ce qui est chargé, et quand"


PATIENTS_CSV = ("IPP;NOM;SEXE;CP;COULEUR\r\nP5001;MARTIN;Z;75011;bleu\r\nP5002;DURAND;F;7501;vert\r\n").encode("cp1252")


def _upload(at, table: str, name: str, data: bytes):
    at.selectbox(key="data_table").select(table)
    at.file_uploader(key="data_upload").upload(name, data, "text/csv")
    at.button[0].click()  # the form's submit button
    return at.run()


def test_the_validation_report_and_its_findings_are_in_french(app, fresh_warehouse):
    at = app(fresh_warehouse, "admin").run()
    at.switch_page("views/data.py").run()
    _upload(at, "patients", "patients.csv", PATIENTS_CSV)
    assert not at.error, [e.value for e in at.error]
    captions = [c.value for c in at.caption]
    assert "Séparateur détecté : point-virgule" in captions
    assert "1 colonne(s) inconnue(s) ignorée(s) : COULEUR" in captions
    assert at.selectbox(key="data_findings_pick").options[0] == "patients.csv — Patients (2)"
    findings = at.dataframe[1].value  # the findings of the newest import, picked by default
    assert sorted(findings["problem"]) == [
        "Code postal français invalide (5 chiffres)",
        "Code sexe inconnu (attendu M/F/U, H, 1/2, homme/femme, inconnu)",
    ]


def test_a_refused_file_is_explained_in_french(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/data.py").run()
    _upload(at, "staff", "staff.csv", b"user_id;display_name\r\nU9;Dr Neuf\r\n;Dr Vide\r\n")
    assert [e.value for e in at.error] == [
        "Fichier refusé, rien n'a été chargé : staff.csv, ligne 3 : la colonne user_id est vide "
        "(elle est obligatoire)"
    ]
    assert _staff_rows(fresh_warehouse) == 2
    # nothing was read: the report shows why, not "Lignes du fichier 0"
    assert not [m for m in at.metric if m.label == "Lignes du fichier"]
    assert "Le fichier n'a pas été lu dans l'entrepôt : aucune ligne n'est comptée. Corrigez le défaut " \
           "signalé puis importez-le de nouveau." in [c.value for c in at.caption]


def test_the_findings_list_opens_on_the_import_just_made(app, fresh_warehouse):
    """A user who looked at an older import's findings sees the new import's after importing."""
    at = app(fresh_warehouse, "admin").run()
    at.switch_page("views/data.py").run()
    _upload(at, "patients", "first.csv", PATIENTS_CSV)
    first = query(fresh_warehouse, "SELECT import_id FROM imports WHERE file_name LIKE '%first.csv'")[0][0]
    at.session_state["data_findings_pick"] = first  # the user looks at that import's findings
    at.run()
    assert at.dataframe[1].value["raw_value"].tolist() == ["Z", "7501"]
    second = PATIENTS_CSV.replace(b"P5001", b"P6001").replace(b"P5002", b"P6002").replace(b"bleu", b"rouge")
    second = second.replace(b";Z;", b";Q;").replace(b"\r\nP6002;DURAND;F;7501;vert", b"")
    _upload(at, "patients", "second.csv", second)
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="data_findings_pick").options[0] == "second.csv — Patients (1)"
    assert at.dataframe[1].value["raw_value"].tolist() == ["Q"]  # not first.csv's Z and 7501


def test_the_findings_engine_needs_patient_access_and_leaves_a_trace(fresh_warehouse):
    from analytics import importing
    from analytics.access.roles import Actor
    from analytics.errors import AccessDenied
    from analytics.warehouse import connect

    con = connect(fresh_warehouse)
    try:
        ids = importing.imports_page(con, Actor("v", "viewer"), 50)["import_id"].tolist()  # an aggregate
        assert ids and importing.import_count(con, Actor("v", "viewer")) == len(ids)
        with pytest.raises(AccessDenied):
            importing.import_findings(con, Actor("v", "viewer"), ids[0], 10)
        importing.import_findings(con, Actor("ana", "analyst"), ids[0], 10)
        logged = con.execute("SELECT actor, action, object FROM access_log ORDER BY log_id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert logged == ("ana", "view", "data_quality_findings")
