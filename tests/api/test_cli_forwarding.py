"""While ``hygie serve`` holds the warehouse, the CLI hands its commands to it: same output, same exit codes.

Expected outputs come from the same commands run in-process on another copy of the same demo
warehouse, before anything serves it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from analytics.warehouse.connection import copy_warehouse
from tests.api.conftest import HYGIE, Served, patient_parameters

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_cli")]
HANDED = "command run by it"


def _hygie(db: Path, *args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([HYGIE, "--db", str(db), *args], capture_output=True, text=True, input=stdin,
                          timeout=300, check=False, cwd=cwd)


@pytest.fixture(scope="module")
def in_process(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another copy of the demo warehouse, nobody serving it."""
    db = tmp_path_factory.mktemp("in-process") / "hygie.duckdb"
    copy_warehouse(demo_template, db)  # with its access-log key and anchor
    return db


def _same(served: Served, in_process: Path, *args: str) -> subprocess.CompletedProcess:
    expected = _hygie(in_process, *args)
    got = _hygie(served.db, *args)
    assert HANDED in got.stderr, got.stderr
    assert HANDED not in expected.stderr
    assert got.returncode == expected.returncode, (got.stderr, expected.stderr)
    assert got.stdout.replace(str(served.db), "DB") == expected.stdout.replace(str(in_process), "DB")
    return got


def test_info_and_timesinks_summary_print_what_they_print_in_process(served: Served, in_process: Path):
    info = _same(served, in_process, "info")
    assert info.returncode == 0 and f"warehouse: {served.db}" in info.stdout
    assert _same(served, in_process, "timesinks", "summary").returncode == 0
    assert _same(served, in_process, "timesinks", "summary", "--from", "2024-99-01").returncode == 2


def test_duplicates_find_runs_in_the_server(served: Served, in_process: Path):
    expected = _hygie(in_process, "duplicates", "find")
    got = _hygie(served.db, "duplicates", "find")
    assert (got.returncode, expected.returncode) == (0, 0), got.stderr
    assert HANDED in got.stderr

    def same_but_ids_and_seconds(text: str) -> str:
        return re.sub(r"in \d+(\.\d+)? s", "in … s", re.sub(r"\b[0-9a-f]{12}\b", "ID", text))

    assert same_but_ids_and_seconds(got.stdout) == same_but_ids_and_seconds(expected.stdout)
    assert "match run ID: 2500 patients" in same_but_ids_and_seconds(got.stdout)


def test_export_writes_the_file_here_and_refusals_keep_their_exit_code(served: Served, in_process: Path,
                                                                         tmp_path: Path):
    (tmp_path / "here").mkdir()
    (tmp_path / "there").mkdir()
    args = ("export", "patients", "--out", "patients.csv", "--as", "analyst")
    expected = _hygie(in_process, *args, cwd=tmp_path / "there")
    got = _hygie(served.db, *args, cwd=tmp_path / "here")
    assert (got.returncode, expected.returncode) == (0, 0), got.stderr
    assert got.stdout == expected.stdout and HANDED in got.stderr
    rows = int(got.stdout.split()[1])  # "Exported N rows of patients to patients.csv ..."
    written = tmp_path / "here" / "patients.csv"
    assert written.stat().st_mode & 0o777 == 0o600
    lines = written.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == rows + 1 and lines[0].startswith("patient_id;")
    refused = _same(served, in_process, "export", "patients", "--out", str(tmp_path / "x.csv"), "--identified",
                    "--as", "analyst")
    assert refused.returncode == 4 and not (tmp_path / "x.csv").exists()
    in_process_error = _hygie(in_process, "export", "patients", "--out", str(tmp_path / "x.csv"), "--identified",
                              "--as", "analyst").stderr
    assert refused.stderr.endswith(in_process_error), refused.stderr


def test_import_sends_its_file_and_a_new_token_works_on_match(served: Served, tmp_path: Path):
    sample = (Path(__file__).resolve().parents[2] / "sample_data" / "small" / "patients.csv").read_bytes()
    header, first = sample.splitlines()[:2]
    fresh = first.replace(b"100000001;", b"990000001;", 1)
    (tmp_path / "new_patients.csv").write_bytes(header + b"\r\n" + fresh + b"\r\n")
    imported = _hygie(served.db, "import", "patients", "new_patients.csv", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "File:      new_patients.csv" in imported.stdout and "hygie-cli-" not in imported.stdout
    # the newcomer (a second record of patient 100000001) is matched on arrival, and searchable
    assert "Notice:    1 new identities matched on arrival (run " in imported.stdout
    fields = fresh.decode("cp1252").split(";")
    twin = {"patient_id": "100000001", "birth_name": fields[1], "first_names": fields[3],
            "birth_date": "-".join(reversed(fields[5].split("/"))), "sex": fields[6],
            "birth_place_code": fields[7], "ins": fields[8]}
    status, _, body = served.call("POST", "/fhir/Patient/$match", patient_parameters(twin))
    assert status == 200, body
    found = [e["resource"]["identifier"][0]["value"] for e in body["entry"]]
    assert set(found[:2]) == {"100000001", "990000001"}, found
    info = _hygie(served.db, "info")
    assert "patients: 2501 rows" in info.stdout
    token = _hygie(served.db, "users", "token", "add", "analyst", "--label", "admission")
    assert token.returncode == 0, token.stderr
    served.tokens["fresh"] = token.stdout.strip()
    status, _, body = served.call("POST", "/fhir/Patient/$match", patient_parameters(served.patient), token="fresh")
    assert status == 200, body
    assert body["entry"][0]["resource"]["identifier"][0]["value"] == served.patient["patient_id"]
    assert json.dumps(body).count('"certain"') >= 1


def test_the_monthly_report_is_written_here(served: Served, tmp_path: Path):
    made = _hygie(served.db, "report", "monthly", "--month", "2026-11", "--out", "rapport.pdf", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert HANDED in made.stderr and made.stdout.startswith("Monthly report for 2026-11 written to rapport.pdf (")
    assert (tmp_path / "rapport.pdf").read_bytes()[:5] == b"%PDF-"


def test_users_commands_read_their_password_from_stdin_here(served: Served):
    added = _hygie(served.db, "users", "add", "nurse.desk", "--role", "viewer", "--password-stdin",
                   stdin="Tr0ub4dor&3-horse-staple\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "Account 'nurse.desk' created with role viewer.\n" and HANDED in added.stderr
    listed = _hygie(served.db, "users", "list")
    assert listed.returncode == 0 and any(line.startswith("nurse.desk ") for line in listed.stdout.splitlines())


def test_the_job_worker_serves_the_api_too(demo_template: Path, tmp_path: Path):
    import os
    import signal
    import time

    from analytics.api.runtime import read_runtime
    from tests import hygie_server

    db = tmp_path / "hygie.duckdb"
    copy_warehouse(demo_template, db)  # with its access-log key and anchor
    port = hygie_server.free_port()
    with (tmp_path / "worker.log").open("w") as log:
        proc = subprocess.Popen([HYGIE, "--db", str(db), "jobs", "worker", "--api-port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while read_runtime(db) is None:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        assert read_runtime(db).port == port
        info = _hygie(db, "info")
        assert info.returncode == 0 and HANDED in info.stderr and "patients: 2500 rows" in info.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert read_runtime(db) is None, "the runtime file is removed when the owner stops"
    after = _hygie(db, "info")
    assert after.returncode == 0 and HANDED not in after.stderr  # free again: in-process
