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
    con.execute("INSERT INTO schedules (user_id, start, \"end\") VALUES ('=cmd', ?, ?)", [f"{MON} 08:00:00+01", f"{MON} 12:00:00+01"])
    con.execute("INSERT INTO staff (user_id, role, service) VALUES ('=cmd', 'physician', 'cardio'), "
                "('n1', 'nurse', 'cardio')")
    con.close()
    return path


def _read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_export_by_user_has_the_promised_columns(db, tmp_path):
    out = tmp_path / "users.csv"
    result = CliRunner().invoke(main, ["--db", str(db), "timesinks", "export", "--dialect", "standard", "--by", "user",
                                       "--out", str(out), "--idle-threshold", "240", "--role", "all"])
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
    result = CliRunner().invoke(main, ["--db", str(db), "timesinks", "export", "--dialect", "standard", "--by", by, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read(out)
    assert rows and list(rows[0].keys())[0] == first_column
    assert rows[0]["idle_threshold_s"] == "300"


def test_summary_and_date_errors(db):
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(db), "timesinks", "summary", "--from", "02/03/2026",
                                  "--role", "all"])
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


def test_export_measures_physicians_by_default_with_the_new_columns(db, tmp_path):
    out = tmp_path / "users.csv"
    result = CliRunner().invoke(main, ["--db", str(db), "timesinks", "export", "--dialect", "standard", "--by", "user", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 rows" in result.output and "médecins" in result.output
    rows = _read(out)
    assert [r["user_id"] for r in rows] == ["'=cmd"]
    doctor = rows[0]
    assert float(doctor["prescription_time8"]) == float(doctor["order_time8"])
    for column in ("undivided_attention", "teamwork_orders", "same_day_note_completion", "psh40",
                   "planning_coverage", "other_scheduled_hours", "period_first", "period_last"):
        assert column in doctor
    assert doctor["period_first"] == doctor["period_last"] == "2026-03-02"
    assert float(doctor["planning_coverage"]) == 1


@pytest.mark.parametrize("code, scheduled", [("FR", 10.0), ("57", 0.0), ("fr-57", 0.0), ("67", 0.0)])
def test_export_with_regional_holidays(tmp_path, code, scheduled):
    """A nurse working on Good Friday 2026 (3 April): a working day in most of France, a
    public holiday in Alsace-Moselle."""
    path = tmp_path / "h.duckdb"
    con = connect(path)
    con.execute("""INSERT INTO audit_events (event_id, user_id, "timestamp", activity) VALUES
                   ('e1', 'n1', '2026-04-03 10:00:00+02', 'inbox'), ('e2', 'n1', '2026-04-03 10:04:00+02', 'inbox')""")
    con.close()
    out = tmp_path / "users.csv"
    result = CliRunner().invoke(main, ["--db", str(path), "timesinks", "export", "--dialect", "standard", "--by", "user", "--out", str(out),
                                       "--holidays", code, "--role", "all"])
    assert result.exit_code == 0, result.output
    row = _read(out)[0]
    assert float(row["scheduled_hours"]) == scheduled
    assert float(row["outside_minutes"]) == (4 if scheduled == 0 else 0)


def test_unknown_holiday_calendar_is_refused(db):
    result = CliRunner().invoke(main, ["--db", str(db), "timesinks", "summary", "--holidays", "99"])
    assert result.exit_code == 2
    assert ("Error: holidays: '99' is not one of FR, 57, 67, 68, 6AE, 971, 972, 973, 974, 976 "
            "(FR: national calendar; 57, 67, 68: Alsace-Moselle; 971-976: overseas)") in result.output
