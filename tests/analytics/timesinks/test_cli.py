"""``hygie timesinks summary|export`` through click's CliRunner on a real warehouse file."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from analytics.cli import main
from analytics.timesinks import USER_COLUMNS
from analytics.warehouse import connect

MON = "2026-03-02"


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "hygie.duckdb"
    con = connect(path)
    rows = [
        ("e1", "=cmd", f"{MON} 11:58:00+01", "documentation", "d1", "CR", "cardio"),
        ("e2", "=cmd", f"{MON} 12:02:00+01", "orders", None, None, "cardio"),
        ("e3", "=cmd", f"{MON} 12:03:00+01", "inbox", None, None, "cardio"),
        ("e4", "n1", f"{MON} 10:00:00+01", "chart_review", None, None, "cardio"),
        ("e5", "n1", f"{MON} 10:02:00+01", "chart_review", None, None, "cardio"),
    ]
    con.executemany(
        """INSERT INTO audit_events (event_id, user_id, "timestamp", activity, document_id, document_type,
                                     service) VALUES (?, ?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?)""",
        rows,
    )
    con.execute("INSERT INTO schedules VALUES ('=cmd', ?, ?, NULL)", [f"{MON} 08:00:00+01", f"{MON} 12:00:00+01"])
    con.execute("INSERT INTO staff (user_id, role, service) VALUES ('=cmd', 'physician', 'cardio'), "
                "('n1', 'nurse', 'cardio')")
    con.close()
    return path


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_export_by_user_has_the_promised_columns(db, tmp_path):
    out = tmp_path / "users.csv"
    result = CliRunner().invoke(main, ["--db", str(db), "timesinks", "export", "--by", "user",
                                       "--out", str(out), "--idle-threshold", "240"])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 rows" in result.output
    rows = _read(out)
    assert list(rows[0].keys())[: len(USER_COLUMNS)] == USER_COLUMNS
    by_user = {r["user_id"]: r for r in rows}
    doctor = by_user["'=cmd"]  # formula neutralised, numbers left alone
    assert float(doctor["active_minutes"]) == 5
    assert float(doctor["outside_minutes"]) == 3
    assert float(doctor["documentation_minutes"]) == 4 and float(doctor["orders_minutes"]) == 1
    assert float(doctor["scheduled_hours"]) == 4 and float(doctor["ehr_time8"]) == 10
    assert float(doctor["wow8"]) == 6
    assert doctor["idle_threshold_s"] == "240"
    assert doctor["after_hours_rule"] == "schedule|clock 08:00-18:00 weekdays FR"
    assert float(by_user["n1"]["chart_review_minutes"]) == 2


@pytest.mark.parametrize(
    "by, first_column",
    [("service", "service"), ("document_type", "document_type"), ("activity", "activity"), ("week", "week")],
)
def test_export_other_groupings(db, tmp_path, by, first_column):
    out = tmp_path / f"{by}.csv"
    result = CliRunner().invoke(main, ["--db", str(db), "timesinks", "export", "--by", by, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read(out)
    assert rows and list(rows[0].keys())[0] == first_column
    assert rows[0]["idle_threshold_s"] == "300"


def test_summary_and_date_errors(db):
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db), "timesinks", "summary", "--from", "02/03/2026"])
    assert result.exit_code == 0, result.output
    assert "Settings: idle threshold 300 s" in result.output
    assert "Clinicians: 2  sessions: 2" in result.output
    bad = runner.invoke(main, ["--db", str(db), "timesinks", "summary", "--from", "yesterday"])
    assert bad.exit_code == 2
    assert "Error: --from: 'yesterday' is not a date (YYYY-MM-DD or dd/mm/yyyy)" in bad.output
    backwards = runner.invoke(main, ["--db", str(db), "timesinks", "summary", "--from", "2026-03-05",
                                     "--to", "2026-03-01"])
    assert backwards.exit_code == 2
    assert "Error: dates: from 05/03/2026 is after to 01/03/2026" in backwards.output
