"""The monthly report: figures of one month from a hand-made warehouse, small cells masked,
and a French PDF whose text says them."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from analytics.access.roles import Actor, system_actor
from analytics.errors import AccessDenied, InvalidInput
from analytics.reports import month_bounds, monthly_report, previous_month, render_pdf

PARIS = ZoneInfo("Europe/Paris")
NOV = datetime(2026, 11, 10, 10, 0, tzinfo=PARIS)


def pdf_text(data: bytes) -> str:
    """The PDF's text with every run of white space (line breaks, no-break spaces) as one space."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


@pytest.fixture
def month_con(con):
    """November 2026 with known counts; October and December rows that must not count."""
    # two matching runs: end of October at 5 %, mid-November at 2 %
    con.executemany(
        "INSERT INTO match_runs (match_run_id, started_at, finished_at, threshold_match, threshold_review, "
        "patients, candidate_pairs, matches, reviews, clusters, params) VALUES (?, ?, ?, 0.9, 0.2, 100, 10, 5, ?, 2, ?)",
        [("run-oct", datetime(2026, 10, 30, tzinfo=PARIS), datetime(2026, 10, 30, tzinfo=PARIS), 3,
          '{"surplus_records": 5}'),
         ("run-nov", NOV, NOV, 2, '{"surplus_records": 2}')],
    )
    con.executemany("INSERT INTO match_clusters VALUES ('run-nov', ?, ?)",
                    [("A1", "c1"), ("A2", "c1"), ("B1", "c2"), ("B2", "c2")])
    # reviews: 12 'same' in November (shown), 3 'not_same' in November (masked), 4 in December (ignored)
    reviews = [(f"S{i}", f"T{i}", "same", NOV + timedelta(hours=i)) for i in range(12)]
    reviews += [(f"N{i}", f"M{i}", "not_same", NOV) for i in range(3)]
    reviews += [(f"D{i}", f"E{i}", "same", datetime(2026, 12, 1, 0, 30, tzinfo=PARIS)) for i in range(4)]
    con.executemany("INSERT INTO pair_reviews VALUES (?, ?, ?, 'rev', ?, NULL)", reviews)
    # jobs: one merge applied (2 messages), then undone; one failed merge; a merge in October
    con.executemany(
        "INSERT INTO job_runs (run_id, job, actor, status, started_at, rows_changed, undo_of) "
        "VALUES (?, ?, 'mgr', ?, ?, ?, ?)",
        [("r1", "merge-identities", "undone", NOV, 40, None),
         ("r2", "merge-identities", "succeeded", NOV + timedelta(days=1), 40, "r1"),
         ("r3", "merge-identities", "failed", NOV + timedelta(days=2), None, None),
         ("r0", "merge-identities", "succeeded", datetime(2026, 10, 2, tzinfo=PARIS), 99, None)],
    )
    con.executemany("INSERT INTO job_outputs VALUES (?, ?, 'x', 1)",
                    [("r1", "adt_a40_1.hl7"), ("r1", "merge_bundle.json"), ("r1", "worklist.csv")])
    # imports: one patients file with 12 bad dates and 2 bad sexes; one refused file
    con.executemany(
        "INSERT INTO imports (import_id, table_name, file_name, format, rows_in_file, rows_inserted, rows_updated, "
        "findings, status, actor, started_at, finished_at) VALUES (?, ?, ?, 'csv', ?, ?, 0, ?, ?, 'a', ?, ?)",
        [("i1", "patients", "p.csv", 500, 500, 14, "loaded", NOV, NOV),
         ("i2", "documents", "d.csv", 0, 0, 0, "refused", NOV, NOV)],
    )
    con.executemany("INSERT INTO data_quality_findings (import_id, table_name, file_name, problem) VALUES (?, ?, ?, ?)",
                    [("i1", "patients", "p.csv", "bad date")] * 12 + [("i1", "patients", "p.csv", "bad sex")] * 2)
    # audit events: 'CR' written by 6 clinicians (shown), 'Rare' by 2 (masked)
    events, n = [], 0
    for user in range(6):
        for minute in range(0, 60, 2):
            events.append((f"e{n}", f"U{user}", NOV + timedelta(minutes=minute), "documentation", "CR"))
            n += 1
    for user in range(2):
        for minute in range(0, 20, 2):
            events.append((f"e{n}", f"U{user}", NOV + timedelta(hours=3, minutes=minute), "documentation", "Rare"))
            n += 1
    con.executemany('INSERT INTO audit_events (event_id, user_id, "timestamp", activity, document_type) '
                    "VALUES (?, ?, ?, ?, ?)", events)
    con.executemany("INSERT INTO staff (user_id, role, service) VALUES (?, 'physician', 'Cardio')",
                    [(f"U{u}",) for u in range(6)])
    # unsigned documents at the end of November: 1 created on the 29th (0-2 days), 2 on the 5th (8-30 days)
    con.executemany(
        "INSERT INTO documents (document_id, document_type, service, created_at, signed_at) VALUES (?, 'CR', 'Cardio', ?, ?)",
        [("d1", datetime(2026, 11, 29, 12, tzinfo=PARIS), None), ("d2", datetime(2026, 11, 5, tzinfo=PARIS), None),
         ("d3", datetime(2026, 11, 5, tzinfo=PARIS), None), ("d4", datetime(2026, 11, 5, tzinfo=PARIS), NOV)],
    )
    # one record whose INS says a woman born in March 1975, recorded a man: a possible collision
    con.execute("INSERT INTO patients (patient_id, birth_name, sex, birth_date, ins) "
                "VALUES ('K1', 'X', 'M', DATE '1975-03-02', '275033523801222')")
    return con


def test_month_figures_count_only_the_month_and_mask_small_cells(month_con) -> None:
    r = monthly_report(month_con, system_actor(), "2026-11")
    assert r.rate == pytest.approx(2 / 100)        # the November run: 4 records in 2 clusters
    assert r.rate_previous == pytest.approx(0.05)  # the October run's stored count
    assert r.reviewed == {"same": 12, "not_same": None, "unsure": 0}  # 3 is a small cell
    merges = r.job_runs.set_index("job").loc["merge-identities"]
    assert (merges["applied"], merges["undos"], merges["failed"], merges["rows_changed"], merges["messages"]) \
        == (1, 1, 1, 40, 2)
    assert r.imports.set_index("table_name")[["files", "refused", "rows_loaded"]].to_dict("index") == {
        "documents": {"files": 1, "refused": 1, "rows_loaded": 0},
        "patients": {"files": 1, "refused": 0, "rows_loaded": 500}}
    assert r.findings_total == 14
    assert r.findings.to_dict("records") == [{"problem": "bad date", "count": 12}, {"problem": "bad sex", "count": None}]
    assert list(r.top_types["document_type"]) == ["CR"]   # 'Rare' has 2 clinicians: masked
    assert r.masked_types == 1
    assert r.clinicians == 6
    assert r.backlog == {"age_0_2d": 1, "age_3_7d": 0, "age_8_30d": 2, "age_over_30d": 0}
    assert r.collisions == 1


def test_the_pdf_says_the_figures_in_french(month_con) -> None:
    text = pdf_text(render_pdf(monthly_report(month_con, system_actor(), "2026-11")))
    assert "Rapport mensuel — novembre 2026" in text
    assert "2,00 %" in text and "5,00 %" in text            # decimal comma
    assert "12 « même personne », < 10 « personnes différentes »" in text
    assert "Valeurs invalides chargées et signalées : 14" in text
    assert "Collisions (un dossier, deux personnes) à vérifier : 1." in text
    assert "1 type(s) de document utilisé(s) par moins de 5 soignants ne sont pas détaillés" in text
    assert "3 document(s) attendaient une signature à la fin du mois, dont 2 depuis plus de 7 jours" in text
    assert "Rare" not in text                                # a masked row leaves no trace
    assert "U0" not in text and "mgr" not in text            # no staff identifier


def test_an_empty_month_says_so() -> None:
    from analytics.warehouse import connect

    con = connect(":memory:")
    try:
        text = pdf_text(render_pdf(monthly_report(con, system_actor(), "2026-11")))
    finally:
        con.close()
    for sentence in ("Aucune détection de doublons n'a été lancée avant la fin du mois",
                     "Aucun import ce mois-ci.", "Aucune trace DPI sur ce mois",
                     "0 document(s) attendaient une signature"):
        assert sentence in text


def test_the_report_is_logged_and_open_to_aggregate_roles(month_con) -> None:
    monthly_report(month_con, Actor("vera", "viewer"), "2026-11")
    row = month_con.execute("SELECT actor, action, object FROM access_log ORDER BY log_id DESC LIMIT 1").fetchone()
    assert row == ("vera", "export", "monthly_report")
    with pytest.raises(AccessDenied):
        monthly_report(month_con, Actor("nobody", "unknown-role"), "2026-11")


@pytest.mark.parametrize(("month", "expected"), [
    ("2026-11", (date(2026, 11, 1), date(2026, 11, 30))),
    ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),
])
def test_month_bounds(month: str, expected: tuple[date, date]) -> None:
    assert month_bounds(month) == expected


@pytest.mark.parametrize("month", ["2026-13", "novembre", "2026/11", ""])
def test_a_bad_month_is_refused_with_the_expected_form(month: str) -> None:
    with pytest.raises(InvalidInput) as err:
        month_bounds(month)
    assert str(err.value) == f"report: month '{month}' is not of the form YYYY-MM (e.g. 2026-11)"


def test_previous_month_crosses_the_year() -> None:
    assert previous_month(date(2027, 1, 15)) == "2026-12"
    assert previous_month(date(2026, 12, 1)) == "2026-11"


def test_import_findings_are_in_french_in_the_pdf(month_con) -> None:
    """The findings are stored as the importer wrote them, in English; the report reads them by code."""
    import dataclasses

    import pandas as pd

    report = monthly_report(month_con, system_actor(), "2026-11")
    findings = pd.DataFrame({"problem": ["not a valid date (expected dd/mm/yyyy or yyyy-mm-dd); row not loaded",
                                         "malformed INS: key 12 does not match the expected 46"],
                             "count": pd.Series([12, None], dtype=object)})
    text = pdf_text(render_pdf(dataclasses.replace(report, findings=findings)))
    assert "Date invalide (attendu jj/mm/aaaa ou aaaa-mm-jj) ; ligne non chargée" in text
    assert "INS mal formé : la clé 12 ne correspond pas à la clé attendue 46" in text
    assert "not a valid date" not in text and "malformed INS" not in text
