"""Done-when of the privacy issue, on the demo hospital: what an analyst receives has k ≥ 5 on
the joined quasi-identifiers and no column unique per row except pseudonyms.

k is recomputed here independently of ``analytics.privacy.kanon``: the files are read back as
a recipient would, joined on the patient pseudonym, and grouped.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analytics import jobs
from analytics.access.roles import Actor
from analytics.errors import JobError
from analytics.warehouse import connect
from dashboard.i18n import error_text
from tests.analytics.privacy.conftest import HYGIE

ANALYST = Actor("analyst", "analyst")
ADMIN = Actor("admin", "admin")
PATIENT_QI = ("birth_year", "birth_band", "age_band", "sex", "departement", "birth_departement")
EVENT_QI = ("service", "document_type", "action", "activity")
TIMES = ("created_at", "updated_at", "signed_at", "timestamp")
PSEUDONYM = re.compile(r"^[a-z]+_[0-9a-f]{16}$")
K = 5


def _read(data: bytes, sep: str = ",") -> pd.DataFrame:
    text = data.decode("utf-8-sig")
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)


def _qis(frame: pd.DataFrame, suffix: str = "") -> list[str]:
    return [c for c in frame.columns if c.removesuffix(suffix) in (*PATIENT_QI, *EVENT_QI, *TIMES)]


def _smallest_group(frame: pd.DataFrame, qis: list[str]) -> int:
    """Distinct patients per combination of quasi-identifiers (rows without a patient excluded)."""
    rows = frame[frame["patient_id"] != ""] if "patient_id" in frame.columns else frame
    if not qis:
        return rows["patient_id"].nunique()
    return int(rows.groupby(qis, dropna=False)["patient_id"].nunique().min())


def _assert_no_unique_column(frame: pd.DataFrame, name: str) -> None:
    for column in frame.columns:
        values = frame[column]
        if values.nunique() == len(frame) and len(frame) > K:
            assert values.map(lambda v: bool(PSEUDONYM.match(v))).all(), f"{name}.{column} is unique per row"


def test_analyst_cli_export_of_patients_is_k_anonymous(demo_hospital, tmp_path: Path):
    db, env = demo_hospital
    out = tmp_path / "patients.csv"
    done = subprocess.run([HYGIE, "--db", str(db), "export", "patients", "--out", str(out), "--as", "analyst"],
                          capture_output=True, text=True, timeout=300, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Exported ") and "k-anonymity: k=5" in done.stdout
    patients = _read(out.read_bytes(), ";")
    assert 2_500 * 0.95 <= len(patients) < 2_500  # some suppressed, at most 5 %
    assert not {"birth_name", "first_names", "birth_date", "postcode", "phone", "address"} & set(patients.columns)
    qis = _qis(patients)
    assert {"sex"} < set(qis) and ({"birth_year", "birth_band"} & set(qis))
    assert _smallest_group(patients, qis) >= K
    _assert_no_unique_column(patients, "patients")
    report = json.loads((tmp_path / "patients.csv.report.json").read_text())
    assert report["k"] == K and report["k_smallest_group"] >= K and report["suppressed_rows"]["patients"] > 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    con = connect(db)
    try:
        detail = con.execute("SELECT detail FROM access_log WHERE action = 'export' AND object = 'patients' "
                             "ORDER BY log_id DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()
    assert json.loads(detail)["privacy"]["generalised"] == report["generalised"]


def _extract(db: Path, params: dict[str, str]) -> dict[str, pd.DataFrame]:
    con = connect(db)
    try:
        prev = jobs.preview(con, ANALYST, "pseudonymised-extract", params)
        run = jobs.apply(con, ADMIN, prev.preview_id)
    finally:
        con.close()
    folder = Path(run.output_dir)
    return {p.stem: _read(p.read_bytes()) for p in folder.glob("*.csv")}


EXTRACTS = [
    ("patients", {"tables": "patients", "on_small_groups": "generalise"}),
    ("patients, age bands", {"tables": "patients", "on_small_groups": "generalise", "birth_date": "age_band"}),
    ("patients, documents and audit events, chosen columns",
     {"tables": "patients,documents,audit_events", "on_small_groups": "generalise",
      "columns": "patients.patient_id,patients.birth_date,documents.patient_id,"
                 "documents.document_type,documents.created_at,audit_events.patient_id,audit_events.activity,"
                 "audit_events.timestamp"}),
]


@pytest.mark.parametrize(("description", "params"), EXTRACTS, ids=[e[0] for e in EXTRACTS])
def test_every_extract_is_k_anonymous_on_the_joined_view(demo_hospital, monkeypatch, tmp_path, description, params):
    db, env = demo_hospital
    monkeypatch.setenv("HYGIE_SECRET_FILE", env["HYGIE_SECRET_FILE"])
    monkeypatch.setenv("HYGIE_JOBS_OUTPUT_DIR", str(tmp_path / "outputs"))
    files = _extract(db, params)
    patients = files["patients"]
    assert _smallest_group(patients, _qis(patients)) >= K
    for name, frame in files.items():
        _assert_no_unique_column(frame, name)
        if name == "patients":
            continue
        joined = frame.merge(patients, on="patient_id", how="left", suffixes=("", "_patient"))
        qis = _qis(frame) + [c + "_patient" if c in frame.columns else c for c in _qis(patients)]
        assert _smallest_group(joined, qis) >= K, name


def test_an_extract_that_cannot_reach_k_is_refused_in_french(demo_hospital, monkeypatch):
    db, env = demo_hospital
    monkeypatch.setenv("HYGIE_SECRET_FILE", env["HYGIE_SECRET_FILE"])
    con = connect(db)
    try:
        with pytest.raises(JobError) as err:
            jobs.preview(con, ANALYST, "pseudonymised-extract",
                         {"tables": "patients,documents", "on_small_groups": "generalise"})
    finally:
        con.close()
    assert str(err.value).startswith("pseudonymised-extract refused: k-anonymity: documents cannot reach k=5 on ")
    french = error_text(err.value)
    assert french.startswith("Extraction refusée. Export refusé pour protéger l'anonymat : documents n'atteint "
                             "pas k=5 sur ") and "Exportez moins de colonnes" in french
