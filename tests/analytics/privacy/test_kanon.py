"""k-anonymity enforced (analytics.privacy.kanon) and where it is applied: exports streamed in
chunks, the extract's neutralising writer, small aggregate cells masked."""

from __future__ import annotations

import tracemalloc

import pandas as pd
import pytest

from analytics import jobs
from analytics.access.roles import Actor
from analytics.errors import InvalidInput, KAnonymityRefused
from analytics.exports import export_table
from analytics.privacy import kanon

KEY = b"q" * 32
ADMIN, ANALYST = Actor("admin", "admin"), Actor("analyst", "analyst")


def _people(spec: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    """(birth year, sex, département, how many) → a pseudonymised-looking patients frame."""
    rows = [(y, s, d) for y, s, d, n in spec for _ in range(n)]
    return pd.DataFrame({
        "patient_id": [f"pat_{i:016x}" for i in range(len(rows))],
        "birth_year": pd.array([r[0] for r in rows], dtype="Int64"),
        "sex": [r[1] for r in rows],
        "departement": [r[2] for r in rows],
    })


PLANS = [
    # (description, people, expected rung, suppressed rows)
    ("every group already has 5", [(1980, "F", "75", 5), (1990, "M", "13", 6)], kanon.LADDER[0], 0),
    ("one straggler within 5 %: suppressed, no generalising",
     [(1980, "F", "75", 30), (1990, "M", "13", 1)], kanon.LADDER[0], 1),
    ("neighbouring years merge in a 5-year band",
     [(1980, "F", "75", 3), (1981, "F", "75", 3), (1990, "M", "13", 6)], kanon.LADDER[1], 0),
]


@pytest.mark.parametrize(("description", "people", "rung", "suppressed"), PLANS, ids=[p[0] for p in PLANS])
def test_plan_generalises_first_then_suppresses(description, people, rung, suppressed):
    frames, plan = kanon.enforce({"patients": _people(people)}, k=5, max_suppressed_share=0.05)
    assert plan.rung == rung and len(plan.suppressed["patients"]) == suppressed
    out = frames["patients"]
    qis = [c for c in out.columns if c != "patient_id"]
    assert out.groupby(qis, dropna=False).size().min() >= 5 and plan.smallest_group >= 5


def test_bands_are_written_as_ranges():
    frames, _ = kanon.enforce({"patients": _people([(1980, "F", "75", 3), (1983, "F", "75", 3)])},
                              k=5, max_suppressed_share=0.0)
    assert list(frames["patients"].columns) == ["patient_id", "birth_band", "sex", "departement"]
    assert set(frames["patients"]["birth_band"]) == {"1980-1984"}


def test_refusal_names_the_file_the_columns_and_the_share():
    with pytest.raises(KAnonymityRefused) as err:
        kanon.enforce({"patients": _people([(1980, "F", "75", 3), (1950, "M", "13", 1)])},
                      k=5, max_suppressed_share=0.05)
    assert str(err.value) == (
        "k-anonymity: patients cannot reach k=5 on birth_band, sex: even generalised to the last rung "
        "(birth date → 20-year band, postcode → département, time stamps dropped, free text dropped, "
        "birth_departement dropped, departement dropped), "
        "4 of 4 rows (100%) are in groups smaller than k, more than the 5% that may be suppressed; "
        "export fewer columns or rows, or ask an administrator")


def test_events_count_distinct_patients_and_rows_without_patient_are_kept():
    """Ten documents of one patient are one person; an event on no patient describes nobody."""
    events = pd.DataFrame({
        "patient_id": ["pat_" + "a" * 16] * 10 + [None] * 3 + [f"pat_{i:016x}" for i in range(40)],
        "service": ["RARE"] * 10 + ["ANY"] * 3 + ["CARDIO"] * 40,
        "event_id": [f"E{i}" for i in range(53)],
    })
    frames, plan = kanon.enforce({"events": events}, k=5, max_suppressed_share=0.2)
    out = frames["events"]
    assert len(plan.suppressed["events"]) == 10 and "RARE" not in set(out["service"])
    assert out["patient_id"].isna().sum() == 3
    assert "event_id" not in out.columns and plan.dropped_unique == {"events": ["event_id"]}


def test_time_stamps_are_generalised_on_the_joined_view():
    """A document's day joined with its patient's QIs: coarsened until k holds across both files."""
    patients = _people([(1980, "F", "75", 10)])
    stamps = pd.date_range("2026-03-02", periods=10, freq="D", tz="UTC")
    documents = pd.DataFrame({"patient_id": patients["patient_id"], "document_type": ["CR"] * 10,
                              "created_at": stamps})
    frames, plan = kanon.enforce({"patients": patients, "documents": documents}, k=5,
                                 max_suppressed_share=0.0, patients="patients")
    assert plan.rung.time in ("week", "month") and set(frames["documents"]["created_at"]) <= {
        "2026-W10", "2026-W11", "2026-03"}
    assert "sex_patient" in plan.quasi_identifiers["documents"]


def test_frames_about_no_patient_are_left_alone():
    runs = pd.DataFrame({"run_id": ["r1", "r2"], "started_at": pd.to_datetime(["2026-01-01", "2026-01-02"])})
    frames, plan = kanon.enforce({"job_runs": runs}, k=5, max_suppressed_share=0.05)
    assert not plan.enforced and frames["job_runs"].equals(runs)


def test_small_cells_of_people_counts_are_masked_with_their_figures():
    """A service's time with 3 clinicians at work is theirs: the row's figures go with its count."""
    table = pd.DataFrame({"service": ["A", "B", "C"], "users": [3, 12, 0], "active_s": [5.0, 6.0, 7.0]})
    masked, n = kanon.mask_small_cells(table, 10)
    assert n == 1 and masked["users"].isna().tolist() == [True, False, False]
    assert masked["active_s"].isna().tolist() == [True, False, False]
    assert masked["active_s"].tolist()[1:] == [6.0, 7.0] and masked["service"].tolist() == ["A", "B", "C"]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("privacy.k", "1", "setting privacy.k=1 must be at least 2"),
    ("privacy.k", "five", "setting privacy.k='five' is not a valid int"),
    ("privacy.max_suppressed_share", "0.9", "setting privacy.max_suppressed_share=0.9 must lie within 0–0.5"),
])
def test_settings_are_validated(con, key, value, message):
    con.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [key, value])
    with pytest.raises(InvalidInput) as err:
        kanon.privacy_settings(con)
    assert str(err.value) == message


def _crowd(con, n: int, text_bytes: int = 0) -> None:
    con.execute(
        "INSERT INTO patients (patient_id, birth_name, birth_date, sex, postcode, address, created_at) "
        "SELECT 'C' || i, 'NOM', DATE '1980-05-01' + CAST(i % 3 AS INTEGER), 'F', '75012', repeat('x', $w), "
        "TIMESTAMPTZ '2024-01-01 10:00:00+00' FROM range($n) t(i)", {"n": n, "w": text_bytes})


@pytest.mark.parametrize("identified", [False, True], ids=["pseudonymised", "identified"])
def test_export_in_chunks_writes_the_same_bytes(con, identified):
    _crowd(con, 5_000)
    options = {"secret": KEY} if identified else {"secret": KEY, "domain": "d1"}
    whole = export_table(con, ADMIN, "patients", "excel-fr", identified, chunk_rows=100_000, **options)
    chunked = export_table(con, ADMIN, "patients", "excel-fr", identified, chunk_rows=2048, **options)
    assert whole.data == chunked.data and whole.rows == chunked.rows == 5_000
    assert chunked.data.startswith(b"\xef\xbb\xbf") and chunked.data.count(b"\xef\xbb\xbf") == 1


def test_export_streams_a_table_larger_than_what_it_holds(con, tmp_path):
    """10,000 patients with a 2 kB address (20 MB of text) go out with Python holding a fraction
    of it at any time (issue 15: 5M rows of 3 kB raised MemoryError when read whole)."""
    _crowd(con, 10_000, text_bytes=2_000)
    out = tmp_path / "big.csv"
    tracemalloc.start()
    try:
        with out.open("wb") as fh:
            result = export_table(con, ADMIN, "patients", "standard", True, out=fh, chunk_rows=512, secret=KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.rows == 10_000 and result.data == b""
    assert out.stat().st_size > 20_000_000
    assert peak < 10_000_000, f"peak {peak / 1e6:.0f} MB of Python memory for 20 MB of data"


def test_extract_writes_through_the_neutralising_writer(con, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(tmp_path_factory.mktemp("keys") / "k.secret"))
    _crowd(con, 30)
    con.execute("UPDATE patients SET identity_status = '=HYPERLINK(\"http://x\",\"clic\")'")
    prev = jobs.preview(con, ADMIN, "pseudonymised-extract", {"on_small_groups": "generalise"})
    data = con.execute("SELECT content FROM job_preview_outputs WHERE preview_id = ? AND name = 'patients.csv'",
                       [prev.preview_id]).fetchone()[0]
    text = bytes(data).decode("utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text
