"""A viewer (aggregates only) must not read a patient id or a server path in an import's refusal
message on the data page (issue 15, item 6). A real refused import, the page through AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.access.roles import system_actor
from analytics.errors import FileRefused
from analytics.importing import import_file
from analytics.warehouse import connect
from tests.dashboard.conftest import app  # noqa: F401 - the AppTest factory fixture

PATIENTS = "IPP;Nom;Prénom;Date de naissance\n987654;DUPONT;Jean;01/02/1980\n987654;DUPONT;Jean;01/01/1980\n"


@pytest.fixture
def refused(fresh_db: Path, tmp_path: Path) -> Path:
    upload = tmp_path / "srv-uploads" / "hygie-upload-k2j4" / "patients.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text(PATIENTS, encoding="utf-8")
    con = connect(fresh_db)
    try:
        with pytest.raises(FileRefused, match="987654"):
            import_file(con, "patients", upload, actor=system_actor())
    finally:
        con.close()
    return fresh_db


def _page_text(at) -> str:
    frames = [el.value.to_csv() for el in at.dataframe]
    return "\n".join(frames + [e.value for e in at.markdown] + [e.value for e in at.error])


@pytest.mark.parametrize(("role", "sees_id"), [("viewer", False), ("manager", True)])
def test_refusal_messages_hide_patient_ids_and_paths_from_a_viewer(app, refused, role, sees_id):  # noqa: F811
    at = app(refused, role).run()
    at.switch_page("views/data.py").run()
    assert not at.exception
    text = _page_text(at)
    assert "patients.csv" in text  # the import and its refusal are listed for both
    assert ("987654" in text) is sees_id
    assert "srv-uploads" not in text and "hygie-upload-k2j4" not in text
