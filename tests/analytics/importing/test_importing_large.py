"""Paths only files bigger than the sniffed head reach, line numbers at scale, DST arithmetic."""

from __future__ import annotations

import duckdb
import pytest

from analytics.access.roles import system_actor
from analytics.errors import FileRefused
from analytics.importing import import_file
from analytics.importing.validate import paris_sql

SYSTEM = system_actor()

ROWS = 30_000  # about 1.2 MB: beyond the 1 MiB head the sniffer reads


def _audit_lines(rows: int) -> list[str]:
    return [f"E{i:07d};user{i % 50};{1 + i % 28:02d}/03/2024 {i % 24:02d}:{i % 60:02d}:00;R;chart_review;"
            f"IPP{i:06d};PC-CARDIO-{i % 9}\n" for i in range(rows)]


HEADER = "event_id;user_id;timestamp;action;activity;patient_id;workstation\n"


def test_ascii_head_then_windows_1252_is_transcoded(con, tmp_path):
    lines = _audit_lines(ROWS)
    lines[-2] = lines[-2].replace("PC-CARDIO", "PC-PÉDIATRIE")
    path = tmp_path / "audit.csv"
    path.write_bytes((HEADER + "".join(lines)).encode("cp1252"))
    report = import_file(con, "audit", path, actor=SYSTEM)
    assert (report.rows_inserted, report.encoding) == (ROWS, "latin-1")
    assert con.execute("SELECT count(*) FROM audit_events WHERE workstation LIKE 'PC-PÉDIATRIE%'").fetchone() == (1,)


@pytest.mark.parametrize(("description", "mutate", "message"), [
    ("bad timestamp far down", lambda ls: ls.__setitem__(27_000, ls[27_000].replace("/03/2024", "/13/2024")),
     None),
    ("repeated key far down", lambda ls: ls.__setitem__(29_000, ls[12_345]),
     "audit.csv: line 29002: repeated key event_id 'E0012345' (first on line 12347; 2 rows in all)"),
    ("ragged row far down", lambda ls: ls.__setitem__(25_000, ls[25_000].replace("\n", ";extra\n")),
     "audit.csv: line 25002: 8 fields where the header has 7 (ragged row)"),
], ids=["bad timestamp", "repeated key", "ragged row"])
def test_line_numbers_hold_in_big_files(con, tmp_path, description, mutate, message):
    lines = _audit_lines(ROWS)
    mutate(lines)
    path = tmp_path / "audit.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    if message is None:
        report = import_file(con, "audit", path, actor=SYSTEM)
        assert [(f.line, f.record_key) for f in report.findings] == [(27_002, "E0027000")]
        assert report.rows_skipped == 1
    else:
        with pytest.raises(FileRefused) as caught:
            import_file(con, "audit", path, actor=SYSTEM)
        assert str(caught.value) == message


def test_summer_time_arithmetic_matches_icu():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # every 61 minutes over 1995-2031 (all minutes of the hour come round), plus the transition hours
    con.execute("CREATE TABLE t AS SELECT TIMESTAMP '1995-06-01' + i * INTERVAL 61 MINUTE AS ts FROM range(310000) r(i) "
                "UNION ALL SELECT * FROM (VALUES (TIMESTAMP '2024-03-31 02:30:00'), (TIMESTAMP '2024-03-31 01:59:59'), "
                "(TIMESTAMP '2024-03-31 03:00:00'), (TIMESTAMP '2024-10-27 02:30:00'), (TIMESTAMP '2024-10-27 03:00:00'), "
                "(TIMESTAMP '2024-10-27 01:59:59'), (TIMESTAMP '1950-07-01 12:00:00'), (TIMESTAMP '2150-07-01 12:00:00')) v(ts)")
    mismatches = con.execute(
        f"SELECT count(*) FILTER (WHERE {paris_sql('ts')} <> timezone('Europe/Paris', ts)), count(*) FROM t").fetchone()
    assert mismatches == (0, 310_008)


@pytest.mark.parametrize("use_iconv", [True, False], ids=["iconv", "python codecs"])
def test_transcoding_paths_agree_and_name_the_bad_line(tmp_path, use_iconv):
    from analytics.errors import InvalidInput
    from analytics.importing.detect import CHUNK_BYTES, transcode_to_utf8

    text = "IPP;NOM\n" + "".join(f"P{i};LŒUVRE’S É€\n" for i in range(3))
    good = tmp_path / "good.csv"
    good.write_bytes(text.encode("cp1252"))
    assert transcode_to_utf8(good, "windows-1252", tmp_path / "out.csv", use_iconv=use_iconv) == "windows-1252"
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == text
    # an undefined Windows-1252 byte (0x81) after the first chunk boundary
    filler = b"P0;DUPONT\n" * (CHUNK_BYTES // 10 + 5)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"IPP;NOM\n" + filler + b"P1;MAR\x81TIN\n")
    with pytest.raises(InvalidInput) as caught:
        transcode_to_utf8(bad, "windows-1252", tmp_path / "out2.csv", use_iconv=use_iconv)
    line = 2 + filler.count(b"\n")
    assert str(caught.value) == (f"bad.csv: line {line}: undecodable byte 0x81 (not UTF-8, not Windows-1252); "
                                 "re-export the file as UTF-8")
