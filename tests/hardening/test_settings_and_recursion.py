"""Smaller findings of issue 15, item 6: a setting that reaches SQL, and unbounded recursion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.access.roles import system_actor
from analytics.errors import InvalidInput
from analytics.importing import import_file
from analytics.warehouse import connect

HYGIE = str(Path(sys.executable).with_name("hygie"))


@pytest.mark.parametrize("value", ["Europe/Paris'; CREATE TABLE pwned AS SELECT 1; --", "../../etc/passwd",
                                   "Mars/Olympus_Mons", ""])
def test_hygie_timezone_is_checked_against_the_time_zone_database_before_sql(fresh_db: Path, value: str):
    done = subprocess.run([HYGIE, "--db", str(fresh_db), "info"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HYGIE_TIMEZONE=value))
    assert done.returncode == 2  # invalid input, as for any other bad setting
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"Error: HYGIE_TIMEZONE={value[:60]!r}: not a known IANA time zone (e.g. Europe/Paris). "
                                  "Allowed values: the "), done.stderr
    assert "unset HYGIE_TIMEZONE for Europe/Paris" in done.stderr
    assert done.stdout == ""
    con = connect(fresh_db)
    try:
        assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'pwned'").fetchone() \
            == (0,)
    finally:
        con.close()


def test_a_misspelt_hygie_timezone_names_the_nearest_known_zones(fresh_db: Path):
    done = subprocess.run([HYGIE, "--db", str(fresh_db), "info"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HYGIE_TIMEZONE="Europe/Pari"))
    assert (done.returncode, done.stderr.count("\n")) == (2, 1), done.stderr
    assert "Did you mean Europe/Paris" in done.stderr  # the nearest name first


def test_a_200000_deep_json_line_is_refused_with_its_line_number(fresh_db: Path, tmp_path: Path):
    path = tmp_path / "patients.ndjson"
    deep = b"[" * 200_000 + b"]" * 200_000
    path.write_bytes(deep + b"\n" + b'{"resourceType": "Patient", "id": "1"\n')  # then a truncated line
    con = connect(fresh_db)
    try:
        with pytest.raises(InvalidInput, match=r"^patients\.ndjson: line 1: JSON nested too deeply"):
            import_file(con, "patients", path, actor=system_actor())
    finally:
        con.close()


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaaaaaa", "abcdabcdabcdabcd", "1234567890123456", "motdepassemotdepasse"])
def test_a_weak_passphrase_is_refused_whatever_its_length(fresh_db: Path, weak: str):
    from analytics.access import auth

    con = connect(fresh_db)
    try:
        with pytest.raises(InvalidInput, match="^password refused: the password is too easy to guess"):
            auth.create_user(con, None, "anna", "admin", weak)
        auth.create_user(con, None, "anna", "admin", "quatre mots au hasard")  # a real passphrase passes
    finally:
        con.close()
