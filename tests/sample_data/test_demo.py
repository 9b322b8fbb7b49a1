"""``build_demo``: the shipped small sample imported end to end into a real warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analytics.demo import build_demo
from analytics.errors import InvalidInput


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("demo") / "hygie.duckdb"
    calls: list[str] = []

    def step(con: duckdb.DuckDBPyConnection) -> list[str]:
        calls.append("step")
        return [f"post-import step saw {con.execute('SELECT count(*) FROM patients').fetchone()[0]} patients"]

    lines = build_demo(path, steps=[step])
    assert calls == ["step"]
    return path, lines


def test_demo_imports_every_sample_file(demo: tuple[Path, list[str]]) -> None:
    path, lines = demo
    con = duckdb.connect(str(path), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("staff", "schedules", "patients", "documents", "audit_events")}
        statuses = con.execute("SELECT table_name, status FROM imports ORDER BY started_at").fetchall()
        heads = con.execute("SELECT count(*) FROM staff WHERE is_service_head").fetchone()[0]
        leavers = con.execute("SELECT count(*) FROM staff WHERE NOT active").fetchone()[0]
    finally:
        con.close()
    assert counts["patients"] == 2500
    assert all(count > 0 for count in counts.values())
    assert [t for t, _ in statuses] == ["staff", "schedules", "patients", "documents", "audit_events"]
    assert {s for _, s in statuses} == {"loaded"}
    assert heads == 10 and leavers > 0
    assert lines[-2] == "post-import step saw 2500 patients"
    assert lines[-1] == (
        f"Demo warehouse ready: {counts['staff']} staff, {counts['schedules']} schedules, "
        f"2500 patients, {counts['documents']} documents, {counts['audit_events']} audit_events"
    )


def test_demo_shows_data_quality_findings(demo: tuple[Path, list[str]]) -> None:
    path, _ = demo
    con = duckdb.connect(str(path), read_only=True)
    try:
        problems = con.execute(
            "SELECT column_name, count(*) FROM data_quality_findings GROUP BY 1 ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    # ins: 2 malformed INS, and 3 whose NIR encodes another birth month than recorded (INS coherence)
    assert dict(problems) == {"birth_date": 2, "ins": 5, "sex": 2}


def test_demo_refuses_to_overwrite_without_force(demo: tuple[Path, list[str]]) -> None:
    path, _ = demo
    with pytest.raises(InvalidInput) as excinfo:
        build_demo(path)
    assert str(excinfo.value) == f"{path} already exists; use --force to rebuild the demo warehouse"


def test_demo_force_rebuilds_from_scratch(tmp_path: Path) -> None:
    path = tmp_path / "hygie.duckdb"
    path.write_bytes(b"not a warehouse")
    build_demo(path, force=True, steps=[])
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM imports").fetchone()[0] == 5
    finally:
        con.close()


def test_demo_names_a_missing_sample_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        build_demo(tmp_path / "hygie.duckdb", sample_dir=tmp_path)
    assert str(excinfo.value) == (
        f"sample hospital incomplete in {tmp_path}: missing staff.csv, schedules.csv, "
        "patients.csv, documents.csv, audit_events.csv"
    )


def test_the_monthly_report_of_the_demo_fills_every_section(demo: tuple[Path, list[str]], tmp_path: Path) -> None:
    """The demo hospital as a month of work would leave it: detection, reviews, merges (and an
    undo) and imports dated in November 2026, the month its audit logs cover. Every section of
    the November report then has figures, a chart and its sentence."""
    import shutil

    from pypdf import PdfReader

    from analytics import jobs
    from analytics.access.roles import Actor
    from analytics.identity import find_duplicates
    from analytics.reports import monthly_report, render_pdf
    from analytics.warehouse import connect

    db = tmp_path / "hygie.duckdb"
    shutil.copy(demo[0], db)
    con = connect(db)
    try:
        manager = Actor("manager", "manager")
        find_duplicates(con, actor=manager)  # this module's demo ran its own post-import step only
        pairs = con.execute("SELECT patient_id_1, patient_id_2 FROM match_pairs WHERE decision = 'review' "
                            "LIMIT 11").fetchall()
        assert pairs
        merge = jobs.apply(con, manager, jobs.preview(con, manager, "merge-identities", {}).preview_id)
        con.executemany("INSERT INTO pair_reviews VALUES (?, ?, 'not_same', 'civ', TIMESTAMPTZ '2026-11-20 10:00:00+01', NULL)",
                        pairs)
        for table, column, moment in (("match_runs", "started_at", "2026-11-18 07:00:00+01"),
                                      ("imports", "started_at", "2026-11-16 07:00:00+01"),
                                      ("job_runs", "started_at", "2026-11-24 15:00:00+01")):
            con.execute(f"UPDATE {table} SET {column} = TIMESTAMPTZ '{moment}'")  # noqa: S608 - fixed names
        report = monthly_report(con, manager, "2026-11")
        data = render_pdf(report)
    finally:
        con.close()
    assert merge.rows_changed > 0
    assert report.rate is not None and report.pending >= 0
    assert report.job_runs["applied"].sum() == 1 and report.job_runs["messages"].sum() > 0
    assert not report.imports.empty and report.has_time_data and not report.top_types.empty
    assert sum(report.backlog.values()) > 0
    pages = PdfReader(__import__("io").BytesIO(data)).pages
    text = " ".join(" ".join(p.extract_text().split()) for p in pages)
    for empty in ("Aucune détection", "Aucune fusion", "Aucun import", "Aucune trace DPI"):
        assert empty not in text
    assert len(pages) >= 2
    for heading in ("L'essentiel", "1. Identitovigilance", "2. Qualité des imports", "3. Temps documentaire",
                    "4. Documents non signés"):
        assert heading in text
