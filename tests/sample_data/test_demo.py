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
    assert dict(problems) == {"birth_date": 2, "ins": 2, "sex": 2}


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
