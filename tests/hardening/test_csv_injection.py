"""CSV injection: every export path makes formula-looking text inert and leaves real numbers alone.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, tab or CR is exported with a leading
``'`` (spreadsheets then show it as text); a float ``-3.5`` or an int ``-2`` stays a number.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analytics.access import Actor
from analytics.access.roles import system_actor
from analytics.exports import export_frame, export_table
from analytics.importing import import_file
from analytics.warehouse import connect

SYSTEM = system_actor()

HYGIE = str(Path(sys.executable).with_name("hygie"))
KEY = b"k" * 32
ADMIN, ANALYST = Actor("admin", "admin"), Actor("analyst", "analyst")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = [
    ("hyperlink", '=HYPERLINK("http://x","clic")'),
    ("plus", "+1"),
    ("minus formula", "-2+3"),
    ("at", "@SUM(A1)"),
    ("tab prefix", "\t=1+1"),
    ("CR prefix", "\r=1+1"),
    ("text that looks like a negative number", "-3"),
    ("DDE", "=cmd|' /C calc'!A0"),
]
SEP = {"excel-fr": ";", "standard": ","}


def _parse(data: bytes, dialect: str) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=SEP[dialect]))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "label": [v for _, v in HOSTILE],
        "score": [-3.5] * len(HOSTILE),
        "delta": pd.Series([-2] * len(HOSTILE), dtype="int64"),
        "mixed": [v if i % 2 else -2 for i, (_, v) in enumerate(HOSTILE)],  # object column: text and int
    })


@pytest.mark.parametrize("dialect", ["excel-fr", "standard"])
def test_export_frame_neutralises_formulas_and_keeps_numbers(con, dialect):
    rows = _parse(export_frame(con, ADMIN, "hostile", _frame(), dialect, aggregate=True), dialect)
    decimal = "," if dialect == "excel-fr" else "."
    for row, (desc, value) in zip(rows, HOSTILE, strict=True):
        assert row["label"] == "'" + value, desc
        assert row["score"] == f"-3{decimal}5"
        assert row["delta"] == "-2"
    assert [r["mixed"] for r in rows] == ["-2" if i % 2 == 0 else "'" + v for i, (_, v) in enumerate(HOSTILE)]


@pytest.mark.parametrize("dialect", ["excel-fr", "standard"])
def test_headers_are_neutralised_too(con, dialect):
    df = pd.DataFrame({'=HYPERLINK("http://x")': ["a"], "@name": ["b"]})
    header = export_frame(con, ADMIN, "hostile", df, dialect, aggregate=True).decode("utf-8-sig").splitlines()[0]
    assert header == SEP[dialect].join(['"\'=HYPERLINK(""http://x"")"', "'@name"])


def _load_hostile_patients(db: Path, folder: Path) -> None:
    lines = ["IPP;NOM_NAISSANCE;PRENOMS;VILLE;DATE_NAISSANCE"]
    for i, (_, value) in enumerate(HOSTILE):
        quoted = '"' + value.replace('"', '""') + '"'
        lines.append(f"P{i};{quoted};{quoted};{quoted};01/01/1980")
    path = folder / "hostile_patients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = connect(db)
    try:
        report = import_file(con, "patients", path, actor=SYSTEM)
        assert report.rows_inserted == len(HOSTILE)
    finally:
        con.close()


def _assert_inert(rows: list[dict[str, str]]) -> int:
    checked = 0
    for row in rows:
        for column, cell in row.items():
            assert not (cell or "").startswith(TRIGGERS), (column, cell)
            checked += 1
    return checked


@pytest.mark.parametrize("dialect", ["excel-fr", "standard"])
@pytest.mark.parametrize("identified", [True, False], ids=["identified", "pseudonymised"])
def test_export_table_patients_is_inert(fresh_db: Path, tmp_path: Path, dialect, identified):
    _load_hostile_patients(fresh_db, tmp_path)
    con = connect(fresh_db)
    try:
        exp = export_table(con, ADMIN if identified else ANALYST, "patients", dialect, identified, secret=KEY)
    finally:
        con.close()
    rows = _parse(exp.data, dialect)
    assert len(rows) == len(HOSTILE)
    assert _assert_inert(rows) > 0
    if identified:
        names = {r["birth_name"] for r in rows}
        assert "'=HYPERLINK(\"http://x\",\"clic\")" in names and "'@SUM(A1)" in names and "'-2+3" in names


@pytest.mark.parametrize("dialect", ["excel-fr", "standard"])
@pytest.mark.parametrize("identified", [True, False], ids=["identified", "pseudonymised"])
def test_hygie_export_patients_is_inert(fresh_db: Path, tmp_path: Path, dialect, identified):
    _load_hostile_patients(fresh_db, tmp_path)
    out = tmp_path / "out.csv"
    args = [HYGIE, "--db", str(fresh_db), "export", "patients", "--out", str(out), "--dialect", dialect]
    env = {**os.environ, "HYGIE_SECRET_FILE": str(tmp_path.with_name(tmp_path.name + "-keys") / "hygie.secret")}
    done = subprocess.run(args + (["--identified"] if identified else []), capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    rows = _parse(out.read_bytes(), dialect)
    assert len(rows) == len(HOSTILE)
    _assert_inert(rows)
    if identified:
        assert "'+1" in {r["birth_name"] for r in rows}


@pytest.mark.parametrize("dialect, expected", [
    ("standard", 'name,n\n"x\r=1+1",-2\n"\'\r=2",3\n'),
    ("excel-fr", '\ufeffname;n\r\n"x\r=1+1";-2\r\n"\'\r=2";3\r\n'),
])
def test_a_cr_inside_a_cell_is_quoted_in_both_dialects(dialect, expected):
    """Regression: the standard dialect (LF records) wrote a bare CR unquoted, so readers split the
    row there and '=1+1' started a new, un-neutralised row."""
    from analytics.exports import to_csv_bytes

    data = to_csv_bytes(pd.DataFrame({"name": ["x\r=1+1", "\r=2"], "n": [-2, 3]}), dialect)
    assert data.decode("utf-8") == expected
    assert [r["name"] for r in _parse(data, dialect)] == ["x\r=1+1", "'\r=2"]


# --- the writers that had a CSV writer of their own (issue 15, item 6: "one function") ---------

ROGUE = [("NUL before a formula", '\x00=HYPERLINK("http://x","clic")'), ("CR inside a cell", "Note\r=1+1"),
         ("formula", "=cmd|' /C calc'!A0")]


def _cells(data: bytes, sep: str) -> list[str]:
    """Every cell as a spreadsheet reads it: a bare CR or LF ends a record, NUL is dropped."""
    text = data.decode("utf-8-sig").replace("\x00", "")
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep) for cell in row]


def test_the_unsigned_documents_worklist_goes_through_the_shared_writer(fresh_db: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch):
    """The job's own writer prefixed only text starting with a trigger: '\\x00=HYPERLINK(...)' went
    out raw (a NUL and a live formula once a reader drops the NUL)."""
    from analytics import jobs
    from analytics.access import auth
    from tests.analytics.jobs.conftest import populate

    monkeypatch.setenv("HYGIE_JOBS_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(tmp_path / "keys" / "test.secret"))
    admin = Actor("alice", "admin")
    con = connect(fresh_db)
    try:
        populate(con)
        auth.create_user(con, None, admin.username, admin.role, "Violet-Cactus-93-lantern")
        for (_, value), document in zip(ROGUE, ("D1", "D2", "D4"), strict=True):
            con.execute("UPDATE documents SET title = ? WHERE document_id = ?", [value, document])
        run = jobs.apply(con, admin, jobs.preview(con, admin, "route-unsigned-documents", {"days": 7}).preview_id)
    finally:
        con.close()
    written = sorted(Path(run.output_dir).glob("worklist_*.csv"))
    data = b"".join(path.read_bytes() for path in written)
    assert len(written) == 2 and b"\x00" not in data
    cells = [c for path in written for c in _cells(path.read_bytes(), ";")]
    assert not [c for c in cells if c.startswith(TRIGGERS)], cells
    assert {"'=HYPERLINK(\"http://x\",\"clic\")", "Note\r=1+1", "'=cmd|' /C calc'!A0"} <= set(cells)


@pytest.mark.parametrize("dialect", ["excel-fr", "standard"])
def test_hygie_timesinks_export_goes_through_the_shared_writer(fresh_db: Path, tmp_path: Path, dialect: str):
    """`hygie timesinks export` wrote with pandas' to_csv and LF records: a CR inside a document
    type was left unquoted, so the '=1+1' after it began a record of its own, un-neutralised."""
    con = connect(fresh_db)
    try:
        for i, (_, value) in enumerate(ROGUE):
            con.executemany('INSERT INTO audit_events (event_id, user_id, "timestamp", activity, document_type) '
                            "VALUES (?, 'DR1', CAST(? AS TIMESTAMPTZ), 'documentation', ?)",
                            [(f"e{i}a", f"2026-03-0{i + 2} 10:00:00+01", value),
                             (f"e{i}b", f"2026-03-0{i + 2} 10:03:00+01", value)])
    finally:
        con.close()
    out = tmp_path / "types.csv"
    done = subprocess.run([HYGIE, "--db", str(fresh_db), "timesinks", "export", "--by", "document_type",
                           "--role", "all", "--out", str(out), "--dialect", dialect],
                          capture_output=True, text=True, timeout=120, check=False, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert b"\x00" not in data
    cells = _cells(data, SEP[dialect])
    assert not [c for c in cells if c.startswith(TRIGGERS)], cells
    assert {"'=HYPERLINK(\"http://x\",\"clic\")", "Note\r=1+1", "'=cmd|' /C calc'!A0"} <= set(cells)
