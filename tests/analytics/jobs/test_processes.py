"""Real processes: a cron-started CLI run while the "server" holds the warehouse, and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analytics.jobs.engine import INTERRUPTED_MESSAGE, mark_interrupted
from analytics.jobs.queue import JobQueue, queue_path
from analytics.warehouse import connect
from tests.analytics.jobs.helpers import snapshot

HYGIE = str(Path(sys.executable).with_name("hygie"))
ROOT = Path(__file__).resolve().parents[3]


def _cli(db: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HYGIE, "--db", str(db), "jobs", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy(), check=False)


@pytest.fixture
def server(warehouse_path: Path, tmp_path: Path):
    """A process holding the warehouse read-write and running the job worker."""
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([HYGIE, "--db", str(warehouse_path), "jobs", "worker", "--poll", "0.05"],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    queue = JobQueue(queue_path(warehouse_path))
    deadline = time.monotonic() + 60
    while queue.worker_pid() != proc.pid:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        assert time.monotonic() < deadline, "worker did not start"
        time.sleep(0.1)
    yield proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    log.close()


def test_a_cron_run_while_the_server_holds_the_warehouse_completes_through_the_queue(server, warehouse_path: Path):
    ran = _cli(warehouse_path, "run", "normalise-identities", "--apply", "--yes")
    assert ran.returncode == 0, ran.stderr
    assert "handed to its job worker" in ran.stderr
    run_id = next(line.split("=", 1)[1] for line in ran.stdout.splitlines() if line.startswith("run_id="))
    # a failing request is answered with its error and exit code; the worker keeps serving
    bad = _cli(warehouse_path, "run", "merge-identities", "--param", "survivorship=bogus", "--apply", "--yes")
    assert bad.returncode == 2
    assert "Error: job merge-identities: survivorship='bogus': use a comma list of status, created_at, patient_id" in bad.stderr
    undone = _cli(warehouse_path, "undo", run_id, "--yes")
    assert undone.returncode == 0, undone.stderr
    assert f"undid run {run_id}" in undone.stdout
    server.send_signal(signal.SIGTERM)
    assert server.wait(30) == 0
    con = connect(warehouse_path)
    try:
        statuses = dict(con.execute("SELECT run_id, status FROM job_runs").fetchall())
        assert statuses[run_id] == "undone"
        assert sorted(statuses.values()) == ["succeeded", "undone"]
    finally:
        con.close()


def test_without_a_server_the_cli_runs_directly(warehouse_path: Path):
    ran = _cli(warehouse_path, "run", "archive-duplicate-documents", "--apply", "--yes")
    assert ran.returncode == 0, ran.stderr
    assert "handed" not in ran.stderr
    assert ran.stdout.splitlines()[-1].startswith("run_id=")


CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from analytics.access.roles import Actor
from analytics.warehouse import connect
from analytics import jobs
con = connect(sys.argv[1])
actor = Actor("alice", "admin")
prev = jobs.preview(con, actor, sys.argv[2], {{}})
def progress(done, total):
    print(f"progress {{done}}/{{total}}", flush=True)
    time.sleep(0.4)
jobs.apply(con, actor, prev.preview_id, progress=progress, batch_size=1)
print("finished", flush=True)
"""


@pytest.mark.parametrize("kill_at", [1, 11], ids=["after-the-first-change", "all-changes-made-not-committed"])
def test_a_sigkilled_apply_leaves_the_warehouse_consistent_and_the_run_interrupted(warehouse_path: Path, kill_at: int,
                                                                                  tmp_path: Path):
    con = connect(warehouse_path)
    start = snapshot(con)
    con.close()
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(ROOT)), str(warehouse_path), "merge-identities"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(f"progress {kill_at}/"):
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(30)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    con = connect(warehouse_path)  # reopens after the crash (DuckDB replays its WAL)
    try:
        assert mark_interrupted(con) == 1
        assert snapshot(con) == start, "a killed apply left a partial change"
        run_id, status, message = con.execute("SELECT run_id, status, message FROM job_runs").fetchone()
        assert (status, message) == ("interrupted", INTERRUPTED_MESSAGE)
        assert con.execute("SELECT count(*) FROM job_changes").fetchone()[0] == 0
        assert not (tmp_path / "outputs" / "merge-identities" / run_id).exists()
        # the warehouse is usable: the same job applies cleanly now
        from analytics import jobs
        from tests.analytics.jobs.conftest import ADMIN

        run = jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, "merge-identities").preview_id)
        assert run.status == "succeeded"
        assert mark_interrupted(con) == 0
    finally:
        con.close()
