"""Property-based tests of every importer entry: hostile files either load whole or are refused whole.

Property checked on each generated file:
- ``import_file`` returns a report and the table grew by exactly ``rows_inserted`` rows, or
- it raises :class:`InvalidInput` (FileRefused included) whose message names the file, and every
  table an import may change is byte-for-byte unchanged (no partial load);
- never any other exception, and each case finishes within ``CASE_LIMIT_S`` seconds.

Time bound (a hang is a failure): every case runs under a watchdog. Past ``HANG_LIMIT_S`` the
watchdog cancels DuckDB's running query (``con.interrupt()``) and raises in the test's thread,
so the case fails with "still running" instead of hanging the run. Both limits are multiplied
by the machine's load per core when above 1 (a loaded 2-core CI box stretches every case alike);
hypothesis' own ``deadline`` stays off, being per-example wall time with no allowance for load.

One warehouse per test function (the shared ``con`` fixture, a copy of the migrated template), so that state accumulates
across examples: a refusal after earlier successful loads must still leave everything unchanged.
``CASES`` counts the examples run; pytest's closing summary prints them (tests/figures.py) for RELIABILITY.md.
"""

from __future__ import annotations

import _thread
import collections
import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.access.roles import system_actor
from analytics.errors import InvalidInput
from analytics.importing import import_file
from tests import figures

SYSTEM = system_actor()

CASE_LIMIT_S = 20.0  # a slower case fails after it returns
HANG_LIMIT_S = 120.0  # a case still running then is interrupted and fails
CHANGED_TABLES = ("patients", "documents", "audit_events", "staff", "schedules", "data_quality_findings")
CASES: collections.Counter[str] = figures.track("import fuzz: cases", collections.Counter())
OUTCOMES: collections.Counter[str] = figures.track("import fuzz: outcomes", collections.Counter())
_FUZZ = settings(derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                        HealthCheck.data_too_large])


def fuzz(examples: int) -> settings:
    """Deterministic, bounded settings: same cases on every run, no example database."""
    return settings(_FUZZ, max_examples=examples)

# A French-dialect header and a plausible row per table; fuzzers mutate cells and structure.
HEADERS = {
    "patients": ["IPP", "NOM_NAISSANCE", "PRENOMS", "DATE_NAISSANCE", "SEXE", "VILLE"],
    "documents": ["ID_DOCUMENT", "IPP", "TYPE_DOCUMENT", "TITRE", "DATE_CREATION"],
    "audit_events": ["ID_EVENEMENT", "UTILISATEUR", "HORODATAGE", "ACTION", "IPP"],
    "staff": ["UTILISATEUR", "NOM", "FONCTION", "ACTIF"],
    "schedules": ["UTILISATEUR", "DEBUT", "FIN"],
}
KEY_PREFIX = {"patients": "P", "documents": "D", "audit_events": "E", "staff": "u", "schedules": "u"}
HOSTILE_TEXT = [
    "31/02/2024", "00/00/0000", "29/02/2023", "1900-13-45", "99/99/9999 25:61:61", "",
    "😀🏥 Zoë", "مريم العربي", "שרה כהן", "\u202eNIAM\u202c", "Ἀθηνᾶ", "ÉLODIE-MARIE D'ARC",
    "a\x00b", "\x00", "\ufeffBOM", "=HYPERLINK(\"http://x\",\"clic\")", '"', 'a"b', "a;b", "a,b", "a\tb",
    "a\rb", "a\nb", "\\", "NULL", "null", "NaN", "-1e309", "oui", "non", " ", "\u00a0",
]


def _fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Row count and order-independent hash of every table an import may change."""
    out = {}
    for table in CHANGED_TABLES:
        count, digest = con.execute(
            f"SELECT count(*), coalesce(CAST(sum(hash(t)) AS VARCHAR), '') FROM {table} t"  # noqa: S608
        ).fetchone()
        out[table] = (count, digest)
    return out


def load_factor() -> float:
    """Load average per core, at least 1: how much slower than an idle machine a case may run."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


class CaseHung(Exception):
    """Raised in the test's thread by the watchdog."""


@contextlib.contextmanager
def watchdog(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[threading.Event]:
    """Fail the block if it runs longer than ``seconds``: cancel DuckDB's query, raise CaseHung.

    The timer thread calls ``con.interrupt()`` (a query in C++ never returns to Python by itself)
    and simulates SIGALRM in the main thread, whose handler raises :class:`CaseHung` at the next
    Python instruction. The returned event tells whether it fired (an interrupted query may have
    surfaced as another error first).
    """
    fired, lock, state = threading.Event(), threading.Lock(), {"done": False}

    def on_alarm(signum, frame):
        raise CaseHung(f"still running after {seconds:.0f} s")

    def fire() -> None:
        with lock:
            if state["done"]:
                return
            fired.set()
            con.interrupt()
            _thread.interrupt_main(signal.SIGALRM)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        try:
            with lock:
                state["done"] = True
            timer.cancel()
        finally:
            signal.signal(signal.SIGALRM, previous)  # a simulated signal still pending is then ignored


def _check_case(con: duckdb.DuckDBPyConnection, table: str, path: Path, kind: str, **kwargs) -> str:
    """Import ``path`` under the watchdog and assert the property; return 'loaded' or 'refused'."""
    before = _fingerprint(con)
    factor = load_factor()
    start = time.monotonic()
    try:
        with watchdog(con, HANG_LIMIT_S * factor) as fired:
            try:
                report = import_file(con, table, path, **kwargs, actor=SYSTEM)
            finally:
                elapsed = time.monotonic() - start
        if fired.is_set():
            raise CaseHung(f"still running after {HANG_LIMIT_S * factor:.0f} s")
    except CaseHung as exc:
        pytest.fail(f"{kind}: {path.name}: {exc} (interrupted; a hang is a failure)")
    except InvalidInput as exc:
        if fired.is_set():
            pytest.fail(f"{kind}: {path.name}: interrupted by the watchdog after {elapsed:.0f} s")
        assert path.name in str(exc), f"refusal does not name the file: {exc}"
        assert _fingerprint(con) == before, f"refused but tables changed: {exc}"
        outcome = "refused"
    else:
        after = _fingerprint(con)
        assert after[table][0] - before[table][0] == report.rows_inserted
        assert report.rows_inserted + report.rows_updated + report.rows_skipped == report.rows_in_file
        for other in CHANGED_TABLES:
            if other not in (table, "data_quality_findings"):
                assert after[other] == before[other]
        outcome = "loaded"
    assert elapsed < CASE_LIMIT_S * factor, f"{kind}: one import took {elapsed:.1f} s (load factor {factor:.1f})"
    CASES[kind] += 1
    OUTCOMES[outcome] += 1
    con.execute("BEGIN TRANSACTION")  # fails if the import left a transaction open
    con.execute("ROLLBACK")
    return outcome


cell = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12),
                 st.from_regex(r"[0-3]?\d/[01]?\d/(19|20)\d\d( [0-2]\d:[0-5]\d:[0-5]\d)?", fullmatch=True))


@st.composite
def csv_files(draw, table: str) -> tuple[bytes, str]:
    """A CSV for ``table``: French header, hostile cells, random separator/encoding/line endings/quotes."""
    header = list(HEADERS[table])
    sep = draw(st.sampled_from([";", ",", "\t", "|"]))
    n = draw(st.integers(min_value=0, max_value=6))
    lines = [sep.join(header)]
    for _i in range(n):
        cells = [f"{KEY_PREFIX[table]}{draw(st.integers(0, 99))}" if j == 0 else draw(cell)
                 for j in range(len(header))]
        if table == "schedules":
            cells[1] = draw(st.sampled_from(["28/09/2026 08:30:00", "31/02/2024 08:00:00", "x", cells[1]]))
            cells[2] = draw(st.sampled_from(["28/09/2026 12:30:00", "28/09/2026 07:00:00", "", cells[2]]))
        mode = draw(st.sampled_from(["plain", "plain", "plain", "quoted", "unbalanced", "mixed_sep", "short",
                                     "long"]))
        if mode == "quoted":
            cells = ['"' + c.replace('"', '""') + '"' for c in cells]
        elif mode == "unbalanced":
            cells[draw(st.integers(0, len(cells) - 1))] = '"' + cells[-1]
        elif mode == "mixed_sep":
            lines.append((";" if sep != ";" else ",").join(cells))
            continue
        elif mode == "short":
            cells = cells[:-1]
        elif mode == "long":
            cells = [*cells, "extra"]
        lines.append(sep.join(cells))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "cp1252", "utf-8-sig", "latin-1", "utf-16", "mixed"]))
    if encoding == "mixed":
        half = len(text) // 2
        data = text[:half].encode("utf-8", "replace") + text[half:].encode("cp1252", "replace")
    else:
        data = text.encode(encoding, "replace")
    return data, f"{sep!r} {encoding} {n} rows"


@pytest.mark.parametrize("table", list(HEADERS))
def test_csv_hostile_files_load_whole_or_are_refused_whole(con, tmp_path, table):
    counter = iter(range(10**9))

    @fuzz(25)
    @given(csv_files(table))
    def run(file):
        data, _desc = file
        path = tmp_path / f"fuzz_{table}_{next(counter)}.csv"
        path.write_bytes(data)
        _check_case(con, table, path, f"csv:{table}")

    run()


@fuzz(25)
@given(data=st.binary(max_size=2048), table=st.sampled_from(list(HEADERS)))
def test_random_bytes_never_crash(con, tmp_path, data, table):
    for suffix, kind in ((".csv", "bytes:csv"), (".parquet", "bytes:parquet"), (".ndjson", "bytes:ndjson")):
        path = tmp_path / f"random{suffix}"
        path.write_bytes(data)
        _check_case(con, table, path, kind)


@fuzz(20)
@given(data=st.binary(min_size=1, max_size=512), header_first=st.booleans())
def test_random_bytes_after_a_valid_header(con, tmp_path, data, header_first):
    """A real header followed by garbage (or garbage then a header) is the classic truncated export."""
    header = ";".join(HEADERS["patients"]).encode() + b"\n"
    path = tmp_path / "tail.csv"
    path.write_bytes(header + data if header_first else data + b"\n" + header)
    _check_case(con, "patients", path, "bytes:after-header")


FHIR_TYPES = ["Patient", "DocumentReference", "AuditEvent", "Observation", "Bundle", "", None, 42]


@st.composite
def ndjson_files(draw) -> bytes:
    lines = []
    for _i in range(draw(st.integers(0, 5))):
        rtype = draw(st.sampled_from(FHIR_TYPES))
        resource: dict = {"id": f"r{draw(st.integers(0, 3))}"}
        if rtype is not None:
            resource["resourceType"] = rtype
        if draw(st.booleans()):
            resource["identifier"] = [{"type": {"coding": [{"code": "PI"}]}, "value": draw(cell)}]
            resource["name"] = [{"use": "official", "family": draw(cell), "given": [draw(cell)]}]
            resource["birthDate"] = draw(st.sampled_from(["2024-02-31", "1980-05-01", "31/02/2024", "", "x"]))
        if draw(st.booleans()):
            resource["recorded"] = draw(st.sampled_from(["2026-09-28T07:12:08+02:00", "2024-02-31T00:00:00Z", "x"]))
            resource["agent"] = [{"who": {"identifier": {"value": draw(cell)}}}]
        line = json.dumps(resource, ensure_ascii=draw(st.booleans()))
        mode = draw(st.sampled_from(["ok", "ok", "truncated", "array", "blank", "nul"]))
        if mode == "truncated":
            line = line[: len(line) // 2]
        elif mode == "array":
            line = "[" + line + "]"
        elif mode == "blank":
            line = ""
        elif mode == "nul":
            line = line + "\x00"
        lines.append(line)
    return "\n".join(lines).encode("utf-8")


@fuzz(30)
@given(data=ndjson_files(), table=st.sampled_from(["patients", "documents", "audit_events"]))
def test_fhir_ndjson_wrong_types_and_broken_lines(con, tmp_path, data, table):
    path = tmp_path / "bulk.ndjson"
    path.write_bytes(data)
    _check_case(con, table, path, "ndjson")


@fuzz(20)
@given(rows=st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=8)), st.one_of(st.none(), cell),
                               st.one_of(st.none(), cell, st.integers(-10**6, 10**6).map(str))),
                     max_size=6),
       header=st.sampled_from([("IPP", "NOM_NAISSANCE", "DATE_NAISSANCE"), ("IPP", "IPP2", "X"),
                               ("NOM", "PRENOM", "DDN")]))
def test_parquet_hostile_values(con, tmp_path, rows, header):
    path = tmp_path / "export.parquet"
    values = ", ".join("(" + ", ".join("?" for _ in header) + ")" for _ in rows) or None
    cols = ", ".join(f'"{h}"' for h in header)
    mem = duckdb.connect()
    if values:
        mem.execute(f"CREATE TABLE t ({', '.join(f'{c} VARCHAR' for c in cols.split(', '))})")  # noqa: S608
        mem.execute(f"INSERT INTO t VALUES {values}", [v for row in rows for v in row])  # noqa: S608
    else:
        mem.execute(f"CREATE TABLE t ({', '.join(f'{c} VARCHAR' for c in cols.split(', '))})")  # noqa: S608
    mem.execute("COPY t TO ? (FORMAT parquet)", [str(path)])
    mem.close()
    _check_case(con, "patients", path, "parquet")


# Single large cases (not random): they bound time and memory on the worst shapes.
def _huge_field(folder: Path) -> Path:
    path = folder / "huge_field.csv"
    path.write_text("IPP;NOM_NAISSANCE;PRENOMS\nP1;" + "A" * (1 << 20) + ";JEAN\nP2;B;C\n", encoding="utf-8")
    return path


def _many_columns(folder: Path) -> Path:
    path = folder / "wide.csv"
    header = ";".join(["IPP", *(f"COL{i}" for i in range(100_000))])
    path.write_text(header + "\n" + ";".join(["P1", *("x" for _ in range(100_000))]) + "\n", encoding="utf-8")
    return path


def _nul_bytes(folder: Path) -> Path:
    path = folder / "nul.csv"
    path.write_bytes(b"IPP;NOM_NAISSANCE\nP1;DU\x00PONT\nP2;\x00\x00\x00\n")
    return path


def _huge_quoted_unbalanced(folder: Path) -> Path:
    path = folder / "open_quote.csv"
    path.write_text('IPP;NOM_NAISSANCE\nP1;"' + "x;" * (1 << 19) + "\n", encoding="utf-8")
    return path


def _huge_ndjson_line(folder: Path) -> Path:
    path = folder / "huge.ndjson"
    path.write_text(json.dumps({"resourceType": "Patient", "id": "1", "name": [{"family": "X" * (1 << 20)}],
                                "identifier": [{"type": {"coding": [{"code": "PI"}]}, "value": "P1"}]}) + "\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("build", [_huge_field, _many_columns, _nul_bytes, _huge_quoted_unbalanced,
                                   _huge_ndjson_line], ids=lambda f: f.__name__.strip("_"))
def test_single_large_hostile_files(con, tmp_path, build):
    path = build(tmp_path)
    _check_case(con, "patients", path, "large:" + build.__name__.strip("_"))


def test_wide_header_notice_stays_short(con, tmp_path):
    """Regression: the 'ignored unknown columns' notice listed every name (1 MB for 10^5 columns)."""
    path = tmp_path / "wide_notice.csv"
    path.write_text(";".join(["IPP", *(f"COL{i}" for i in range(500))]) + "\n"
                    + ";".join(["P1", *("x" for _ in range(500))]) + "\n", encoding="utf-8")
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert report.rows_inserted == 1
    notice = next(n for n in report.notices if n.startswith("ignored"))
    assert notice == ("ignored 500 unknown column(s): " + ", ".join(f"COL{i}" for i in range(20))
                      + " and 480 more")


WATCHED = [
    ("a DuckDB query that would run for hours", lambda con: con.execute(
        "SELECT count(*) FROM range(1000000000000) a WHERE hash(a.range) = 0").fetchall()),
    ("a Python loop that never ends", lambda con: any(False for _ in iter(int, 1))),
]


@pytest.mark.parametrize("description, hang", WATCHED, ids=[w[0] for w in WATCHED])
def test_the_watchdog_stops_a_hang(description, hang):
    """The time bound can fail: a hang in DuckDB or in Python is stopped within a second or so."""
    con = duckdb.connect()
    start = time.monotonic()
    # DuckDB reports the cancelled query as InterruptException or, depending on the phase it
    # was in, as RuntimeError("Query interrupted").
    with pytest.raises((CaseHung, duckdb.InterruptException, RuntimeError)) as stopped, \
            watchdog(con, 0.5) as fired:
        hang(con)
    assert stopped.type is not RuntimeError or "interrupted" in str(stopped.value), stopped.value
    assert fired.is_set(), description
    assert time.monotonic() - start < 10, description
    assert con.execute("SELECT 42").fetchone() == (42,)  # the connection is usable afterwards
    con.close()
