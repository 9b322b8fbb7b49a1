"""Every CSV Hygie writes follows one dialect layer (analytics/exports.py).

Table-driven over every writer: by default each writes excel-fr (';', BOM, decimal comma,
dd/mm/yyyy HH:MM, floats to 2 decimals, shares as percentages under "name (%)"), and
``--dialect standard`` gives the canonical file (',', ISO 8601 with seconds, shares as
fractions). No writer lets through microseconds, "nan", or a float's binary noise
(``9,182222222222222``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.cli import main
from analytics.exports import is_share, to_csv_bytes
from tests.dashboard.conftest import fill_warehouse

MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
FR_MOMENT = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
LONG_DECIMALS_FR = re.compile(r"^-?\d+,\d{3,}$")
LONG_DECIMALS = re.compile(r"^-?\d+\.\d{7,}$")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("csv") / "hygie.duckdb"
    fill_warehouse(path)
    done = CliRunner().invoke(main, ["--db", str(path), "jobs", "run", "normalise-identities", "--apply", "--yes"])
    assert done.exit_code == 0, done.output
    return path


def _history(db: Path, out: Path, extra: list[str]) -> list[str]:
    return ["--db", str(db), "jobs", "history", "--csv", str(out), *extra]


def _timesinks(db: Path, out: Path, extra: list[str]) -> list[str]:
    return ["--db", str(db), "timesinks", "export", "--by", "document_type", "--role", "all", "--out", str(out),
            *extra]


def _export(db: Path, out: Path, extra: list[str]) -> list[str]:
    return ["--db", str(db), "export", "imports", "--out", str(out), *extra]


def _pairs(db: Path, out: Path, extra: list[str]) -> list[str]:
    return ["--db", str(db), "duplicates", "export", "--pairs", str(out), *extra]


WRITERS = [
    ("jobs history", _history, "started_at"),
    ("timesinks export", _timesinks, None),
    ("export of a table", _export, "started_at"),
    ("duplicates export", _pairs, None),
]


def _write(db: Path, tmp_path: Path, build, dialect: str | None) -> bytes:
    out = tmp_path / "out.csv"
    done = CliRunner().invoke(main, build(db, out, [] if dialect is None else ["--dialect", dialect]))
    assert done.exit_code == 0, done.output
    return out.read_bytes()


def _rows(data: bytes, sep: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=sep))


@pytest.mark.parametrize(("writer", "build", "moment"), WRITERS, ids=[w[0] for w in WRITERS])
def test_each_writer_defaults_to_excel_fr_for_people(db, tmp_path, writer, build, moment):
    data = _write(db, tmp_path, build, None)
    assert data.startswith(b"\xef\xbb\xbf"), writer
    rows = _rows(data, ";")
    assert rows, writer
    cells = [v for row in rows for v in row.values() if v]
    assert [c for c in cells if MICROSECONDS.search(c)] == []
    assert [c for c in cells if c.lower() in ("nan", "none", "nat")] == []
    assert [c for c in cells if LONG_DECIMALS_FR.match(c)] == []
    assert [c for c in cells if ISO_DAY.match(c)] == []
    if moment:
        assert all(FR_MOMENT.match(row[moment]) for row in rows), [row[moment] for row in rows][:3]
    assert not [h for h in rows[0] if is_share(h) and not h.endswith(" (%)")], writer  # shares: "name (%)"


@pytest.mark.parametrize(("writer", "build", "moment"), WRITERS, ids=[w[0] for w in WRITERS])
def test_each_writer_gives_the_standard_dialect_on_request(db, tmp_path, writer, build, moment):
    data = _write(db, tmp_path, build, "standard")
    assert not data.startswith(b"\xef\xbb\xbf"), writer
    rows = _rows(data, ",")
    cells = [v for row in rows for v in row.values() if v]
    assert [c for c in cells if MICROSECONDS.search(c)] == []
    assert [c for c in cells if c.lower() in ("nan", "none", "nat")] == []
    assert [c for c in cells if LONG_DECIMALS.match(c)] == []
    if moment:
        assert all(re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", row[moment]) for row in rows)


def test_timesinks_shares_are_percentages_in_excel_fr_and_fractions_in_standard(db, tmp_path):
    fr = _rows(_write(db, tmp_path, _timesinks, None), ";")
    std = _rows(_write(db, tmp_path, _timesinks, "standard"), ",")
    assert "after_hours_share (%)" in fr[0] and "share_of_total (%)" in fr[0]
    total = sum(float(r["share_of_total (%)"].replace(",", ".")) for r in fr)
    assert total == pytest.approx(100, abs=0.1 * len(fr))
    assert sum(float(r["share_of_total"]) for r in std) == pytest.approx(1, abs=1e-5)


CASES = [
    ("binary noise is rounded", pd.DataFrame({"hours": [9.182222222222222]}), "hours\r\n9,18\r\n", "hours\n9.182222\n"),
    ("a whole float has no decimals", pd.DataFrame({"slices": [11888.0]}), "slices\r\n11888\r\n", "slices\n11888\n"),
    ("a share is a percentage for people", pd.DataFrame({"after_hours_share": [0.21522803214504102]}),
     "after_hours_share (%)\r\n21,5\r\n", "after_hours_share\n0.215228\n"),
    ("an empty float is an empty cell", pd.DataFrame({"n": [1, 2], "x": [float("nan"), 1.5]}),
     "n;x\r\n1;\r\n2;1,5\r\n", "n,x\n1,\n2,1.5\n"),
    ("no microseconds, minutes for people",
     pd.DataFrame({"at": pd.to_datetime(["2026-12-07 22:10:11.123456+00:00"])}),
     "at\r\n07/12/2026 23:10\r\n", "at\n2026-12-07T23:10:11+01:00\n"),
]


@pytest.mark.parametrize(("frame", "excel_fr", "standard"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_format_layer(frame, excel_fr, standard):
    assert to_csv_bytes(frame, "excel-fr").decode("utf-8-sig") == excel_fr
    assert to_csv_bytes(frame, "standard").decode() == standard
