"""Load: N simultaneous dashboard sessions in headless Chromium while a cleanup job runs.

    python benchmarks/bench_load.py [--sessions 20] [--duration 180] [--db PATH]
                                    [--sample-dir DIR] [--jobs normalise-identities,merge-identities]

Starts a real ``hygie serve`` (the hardened Streamlit server, its job worker thread) on a free
loopback port, then drives N browser contexts of one Debian Chromium (Playwright, asyncio).
Each session logs in with a demo account (roles cycle manager, analyst, viewer, admin) and
loops over its pages (overview, duplicates, time sinks, exports) and downloads a CSV on the
exports page (the analyst's patients export is checked to be pseudonymised). Once every
session is in, the cleanup job(s) are handed to the server's worker through ``hygie jobs run
--apply --yes`` (the queue beside the warehouse) and the sessions keep browsing until the
job has finished and ``--duration`` has passed.

Latency is click → the new page's heading visible and the script run finished (no running
indicator), as a user sees it; with ``--charts``, also until plotly.js has drawn the first
time-sinks chart (browser-side work that, with N tabs in one Chromium, the rig itself starves). Errors: exception
blocks, ``st.error`` boxes, HTTP >= 400, JavaScript errors, WebSocket drops, timeouts, failed
or wrong downloads, and tracebacks in the server log. At the end the job's run is read back
from the warehouse (status, recorded changes) and the access log's hash chain is verified.

Default warehouse: the medium sample (100 000 patients, ~1M audit events), generated under
``/tmp/load-medium`` and built once at ``--db`` (default ``/tmp/load-medium.duckdb``). The
jobs change the warehouse, so each run serves a fresh copy of it (``<stem>.run.duckdb``).

The server runs the code it imports: to measure a commit while others edit the working tree,
run from a snapshot (``git archive HEAD | tar -x -C DIR; cd DIR; PYTHONPATH=DIR python
benchmarks/bench_load.py``); the CLI and the server it starts inherit ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
HYGIE = Path(sys.executable).with_name("hygie")
ROLES = ("manager", "analyst", "viewer", "admin")
#: page key -> (sidebar link, heading)
PAGES = {
    "overview": ("Vue d'ensemble", "Vue d'ensemble"),
    "duplicates": ("Doublons", "Doublons"),
    "time_sinks": ("Temps documentaire", "Temps documentaire"),
    "exports": ("Exports", "Exports"),
}
ROLE_PAGES = {
    "manager": ["duplicates", "time_sinks", "exports", "overview"],
    "analyst": ["time_sinks", "exports", "duplicates", "overview"],
    "viewer": ["time_sinks", "exports", "overview"],  # no patient-level page for a viewer
    "admin": ["exports", "duplicates", "time_sinks", "overview"],
}
#: role -> table it downloads on the exports page (label shown is "<French name> (<table>)")
EXPORT_TABLE = {
    "analyst": ("Patients", "patients"),
    "manager": ("Documents", "documents"),
    "viewer": ("Temps par service et jour", "ts_service_day"),
    "admin": ("Imports", "imports"),
}
IDLE_JS = (
    "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
    " === 'notRunning' && !document.querySelector('[data-testid=\"stStatusWidget\"] button')"
)
SUMMARY_CHANGED_JS = """(before) => {
  const e = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
      .find(x => x.innerText.includes('colonnes :'));
  return e && e.innerText !== before;
}"""
ERRORS_JS = """() => ({
  exceptions: document.querySelectorAll('[data-testid="stException"]').length,
  alerts: [...document.querySelectorAll('[data-testid="stAlert"]')]
      .filter(a => a.querySelector('[data-testid="stAlertContentError"]') || /inattendue/.test(a.innerText))
      .map(a => a.innerText.slice(0, 200)),
  disconnected: !!document.querySelector('[data-testid="stConnectionStatus"]'),
})"""


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    http_requests: int = 0
    downloads: int = 0
    download_bytes: int = 0

    def error(self, session: str, what: str) -> None:
        self.errors.append(f"{session}: {what}")
        print(f"  ERROR {session}: {what}", flush=True)


# ----------------------------------------------------------------------- warehouse and server

def build(db: Path, sample_dir: Path, password: str) -> float:
    """The demo hospital from ``sample_dir`` with accounts, duplicates and time-sinks tables."""
    from analytics.demo import build_demo

    if not (sample_dir / "patients.csv").exists():
        subprocess.check_call([sys.executable, "-m", "sample_data.generate", "--scale", "medium",
                               "--out", str(sample_dir), "--seed", "42"], cwd=ROOT)
    os.environ["HYGIE_DEMO_PASSWORD"] = password  # build_demo creates the demo accounts with it
    started = time.perf_counter()
    build_demo(db, sample_dir=sample_dir)
    return time.perf_counter() - started


class Monitor:
    """Samples the load average and the server's CPU and memory every few seconds."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.proc.cpu_percent(None)
        self.loads: list[float] = []
        self.cpu: list[float] = []
        self.rss: list[int] = []

    def sample(self) -> None:
        self.loads.append(os.getloadavg()[0])
        try:
            self.cpu.append(self.proc.cpu_percent(None))
            self.rss.append(self.proc.memory_info().rss)
        except Exception:  # noqa: BLE001 - the server may be exiting
            pass

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), 5)
            except TimeoutError:
                pass


# ----------------------------------------------------------------------- one browser session

async def wait_idle(page, timeout: float) -> None:
    await page.wait_for_timeout(50)
    await page.wait_for_function(IDLE_JS, timeout=timeout * 1000, polling=50)


async def check_page(page, name: str, where: str, stats: Stats) -> None:
    found = await page.evaluate(ERRORS_JS)
    if found["exceptions"]:
        stats.error(name, f"{where}: {found['exceptions']} exception block(s)")
    for alert in found["alerts"]:
        stats.error(name, f"{where}: error box {alert!r}")
    if found["disconnected"]:
        stats.error(name, f"{where}: connection lost indicator")


async def login(page, base: str, user: str, password: str, timeout: float) -> float:
    await page.goto(base)
    await page.get_by_label("Identifiant").fill(user)
    await page.get_by_label("Mot de passe").fill(password)
    started = time.perf_counter()
    await page.get_by_label("Mot de passe").press("Enter")
    await page.get_by_role("heading", name="Vue d'ensemble").wait_for(timeout=timeout * 1000)
    await wait_idle(page, timeout)
    return time.perf_counter() - started


async def open_page(page, key: str, timeout: float, stats: Stats, charts: bool) -> None:
    """Click the page's link; record the time until its script run has finished (and, for time
    sinks, separately until plotly.js has drawn the first chart in the browser)."""
    link, heading = PAGES[key]
    started = time.perf_counter()
    await page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
    await page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=timeout * 1000)
    await wait_idle(page, timeout)
    stats.latencies[key].append(time.perf_counter() - started)
    if key == "time_sinks" and charts:
        await page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
                                     timeout=timeout * 1000, polling=50)
        stats.latencies["time_sinks + charts drawn"].append(time.perf_counter() - started)


def check_csv(role: str, table: str, data: bytes, patients: int) -> str | None:
    """None if the download is what this role must get, else what is wrong."""
    if not data.startswith(b"\xef\xbb\xbf"):
        return "no UTF-8 BOM (Excel-FR dialect expected)"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    if not rows:
        return "empty CSV"
    if table == "patients":
        if len(rows) != patients:
            return f"{len(rows)} rows instead of {patients}"
        ids = [r["patient_id"] for r in rows[:200]]
        if any(re.fullmatch(r"\d+", i) for i in ids):
            return "patient_id not pseudonymised"
        if "birth_name" in rows[0] and len({r["birth_name"] for r in rows[:200]}) < 150:
            return "birth names look clear (too many repeats for pseudonyms)"
    if table == "documents" and "patient_id" in rows[0] and any(
            re.fullmatch(r"\d+", r["patient_id"] or "x") for r in rows[:200]):
        return "document patient_id not pseudonymised"
    return None


async def export_csv(page, role: str, timeout: float, patients: int, stats: Stats, name: str) -> float | None:
    label, table = EXPORT_TABLE[role]
    combo = page.get_by_role("combobox", name="Table")
    if await combo.input_value() != f"{label} ({table})":
        before = await page.get_by_text("colonnes :").first.inner_text()
        await combo.click()
        await page.get_by_role("option", name=f"{label} ({table})", exact=True).click()
        await page.wait_for_function(SUMMARY_CHANGED_JS, arg=before, timeout=timeout * 1000, polling=50)
        await wait_idle(page, timeout)
    started = time.perf_counter()
    async with page.expect_download(timeout=timeout * 1000) as info:
        await page.get_by_role("button", name=re.compile("Télécharger le CSV")).click()
    download = await info.value
    failure = await download.failure()  # waits for the download to finish
    elapsed = time.perf_counter() - started
    if failure:
        stats.error(name, f"download of {table} failed: {failure}")
        return None
    data = Path(await download.path()).read_bytes()
    problem = check_csv(role, table, data, patients)
    await download.delete()
    if problem:
        stats.error(name, f"download of {table}: {problem}")
        return None
    stats.downloads += 1
    stats.download_bytes += len(data)
    return elapsed


async def session(index: int, browser, base: str, password: str, args, stats: Stats,
                  ready: asyncio.Event, logged_in: list[int], stop_when) -> None:
    role = ROLES[index % len(ROLES)]
    name = f"s{index:02d}-{role}"
    context = await browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True,
                                        locale="fr-FR")
    page = await context.new_page()
    page.set_default_timeout(args.timeout * 1000)
    closing = False

    def on_response(response) -> None:
        stats.http_requests += 1
        if response.status >= 400:
            stats.error(name, f"HTTP {response.status} {response.url}")

    def on_socket(ws) -> None:
        ws.on("close", lambda _ws: None if closing else stats.error(name, f"WebSocket closed {ws.url}"))

    page.on("response", on_response)
    page.on("pageerror", lambda exc: stats.error(name, f"JavaScript error {exc}"))
    page.on("websocket", on_socket)
    try:
        await asyncio.sleep(index * args.stagger)
        try:
            stats.latencies["login"].append(await login(page, base, role, password, args.timeout))
        except Exception as exc:  # noqa: BLE001 - counted, the session stops
            stats.error(name, f"login: {type(exc).__name__}: {str(exc)[:200]}")
            return
        finally:
            logged_in.append(index)
            if len(logged_in) == args.sessions:
                ready.set()
        await check_page(page, name, "login", stats)
        loops = 0
        while not stop_when(loops):
            for key in ROLE_PAGES[role]:
                try:
                    await open_page(page, key, args.timeout, stats, args.charts)
                    await check_page(page, name, key, stats)
                    if key == "exports":
                        took = await export_csv(page, role, args.timeout, args.patients, stats, name)
                        if took is not None:
                            stats.latencies[f"download {EXPORT_TABLE[role][1]}"].append(took)
                        await check_page(page, name, "export", stats)
                except Exception as exc:  # noqa: BLE001 - a timeout or a missing element is an error
                    stats.error(name, f"{key}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                    try:  # start again from a fresh page load (a new Streamlit session: log in)
                        stats.latencies["login"].append(await login(page, base, role, password, args.timeout))
                    except Exception as again:  # noqa: BLE001
                        stats.error(name, f"login again: {type(again).__name__}; session abandoned")
                        return
            loops += 1
    finally:
        closing = True
        await context.close()


# ----------------------------------------------------------------------- the job

async def run_jobs(db: Path, jobs: list[str], timeout: float) -> list[dict]:
    results = []
    for job in jobs:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            str(HYGIE), "--db", str(db), "jobs", "run", job, "--apply", "--yes", "--timeout", str(timeout),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=str(db.parent),
        )
        out, err = await proc.communicate()
        text = out.decode(errors="replace")
        found = re.search(r"^run_id=(\S+)", text, re.M)
        results.append({
            "job": job, "exit": proc.returncode, "seconds": time.perf_counter() - started,
            "run_id": found.group(1) if found else None, "stdout": text,
            "stderr": err.decode(errors="replace"),
        })
        shown = [line for line in text.splitlines() if not line.startswith("  file: ")]
        print(f"job {job}: exit {proc.returncode} after {results[-1]['seconds']:.1f} s; "
              f"{len(text.splitlines()) - len(shown)} output file(s)", *shown, sep="\n", flush=True)
        if proc.returncode:
            print(err.decode(errors="replace")[-2000:], flush=True)
    return results


def verify(db: Path, jobs: list[dict]) -> list[str]:
    """Read the job runs back from the warehouse (server stopped) and check the access log chain."""
    import duckdb

    from analytics.access.access_log import verify_chain

    problems = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for job in jobs:
            if job["exit"] != 0 or not job["run_id"]:
                problems.append(f"job {job['job']} exit {job['exit']}: {job['stderr'][-300:]}")
                continue
            row = con.execute("SELECT status, rows_changed FROM job_runs WHERE run_id = ?",
                              [job["run_id"]]).fetchone()
            changes = con.execute("SELECT count(*) FROM job_changes WHERE run_id = ?",
                                  [job["run_id"]]).fetchone()[0]
            print(f"run {job['run_id']}: status {row and row[0]}, rows_changed {row and row[1]}, "
                  f"{changes} recorded change(s)")
            job.update(status=row and row[0], rows_changed=row and row[1], changes=changes)
            if row is None or row[0] != "succeeded":
                problems.append(f"run {job['run_id']} not committed as succeeded: {row}")
        ok, bad = verify_chain(con)
        entries = con.execute("SELECT count(*) FROM access_log").fetchone()[0]
        print(f"access log: {entries} entries, hash chain {'intact' if ok else f'broken at {bad}'}")
        if not ok:
            problems.append(f"access log hash chain broken at log_id {bad}")
    finally:
        con.close()
    return problems


# ----------------------------------------------------------------------- main

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def drive(args, base: str, db: Path, monitor: Monitor) -> tuple[Stats, list[dict], float]:
    from playwright.async_api import async_playwright

    stats = Stats()
    ready = asyncio.Event()
    stop_monitor = asyncio.Event()
    logged_in: list[int] = []
    state: dict = {"job_done": not args.jobs, "deadline": None}

    def stop_when(loops: int) -> bool:
        if state["deadline"] is None:
            return False
        return loops >= 1 and state["job_done"] and time.monotonic() >= state["deadline"]

    monitor_task = asyncio.create_task(monitor.run(stop_monitor))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = time.monotonic()
        tasks = [asyncio.create_task(session(i, browser, base, args.password, args, stats, ready, logged_in,
                                             stop_when)) for i in range(args.sessions)]
        await ready.wait()
        print(f"{len(logged_in)} sessions in after {time.monotonic() - started:.1f} s "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
        state["deadline"] = time.monotonic() + args.duration
        jobs: list[dict] = []
        if args.jobs:
            jobs = await run_jobs(db, args.jobs.split(","), args.job_timeout)
            state["job_done"] = True
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        await browser.close()
    stop_monitor.set()
    await monitor_task
    return stats, jobs, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=180.0,
                        help="seconds of browsing after every session is in (longer if the job is still running)")
    parser.add_argument("--db", type=Path, default=Path("/tmp/load-medium.duckdb"),
                        help="warehouse; built from --sample-dir when missing, reused otherwise "
                             "(the run serves a fresh copy, <stem>.run.duckdb, beside it)")
    parser.add_argument("--sample-dir", type=Path, default=Path("/tmp/load-medium"))
    parser.add_argument("--password", default="hygie-load", help="demo accounts' password")
    parser.add_argument("--jobs", default="normalise-identities,merge-identities",
                        help="comma-separated jobs applied through the server's worker ('' for none)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before one action counts as failed")
    parser.add_argument("--job-timeout", type=float, default=1800.0)
    parser.add_argument("--charts", action="store_true",
                        help="also wait for plotly.js to draw the time-sinks charts (browser-side cost: "
                             "with many tabs on a small machine it measures the test rig, not the server)")
    parser.add_argument("--analyst-table", choices=["patients", "documents"], default="patients",
                        help="what analysts download (on the large warehouse, patients is 1M rows per click)")
    parser.add_argument("--precompute", action="store_true",
                        help="migrate the copy and bring its time-sinks tables up to date before serving")
    parser.add_argument("--stagger", type=float, default=0.2, help="seconds between session starts")
    args = parser.parse_args()
    if args.analyst_table == "documents":
        EXPORT_TABLE["analyst"] = EXPORT_TABLE["manager"]

    base_db = args.db.resolve()
    if base_db.exists():
        print(f"reusing warehouse {base_db}")
    else:
        print(f"warehouse built in {build(base_db, args.sample_dir, args.password):.1f} s")
    # The jobs change the warehouse: every run works on a fresh copy, so each has the same work.
    db = base_db.with_name(base_db.stem + ".run.duckdb")
    for leftover in (db.with_name(db.name + ".wal"), db.with_name(db.name + ".queue.sqlite")):
        leftover.unlink(missing_ok=True)  # a previous run's WAL would not match the fresh copy
    from analytics.warehouse.connection import copy_warehouse

    copy_warehouse(base_db, db)  # with its access-log key and anchor, so the chain still verifies
    if args.precompute:  # else N sessions each start the rebuild at once (see docs/RELIABILITY.md)
        from analytics.timesinks import ensure_precomputed
        from analytics.warehouse import connect

        started = time.perf_counter()
        con = connect(db)  # also applies pending migrations
        try:
            ensure_precomputed(con)
        finally:
            con.close()
        print(f"time-sinks tables brought up to date in {time.perf_counter() - started:.1f} s")
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        args.patients = con.execute("SELECT count(*) FROM patients").fetchone()[0]
        events = con.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    print(f"{args.patients} patients, {events} audit events; uptime: "
          f"{subprocess.check_output(['uptime'], text=True).strip()}", flush=True)

    from tests.hygie_server import start, stop  # the tests' helper: free port, health wait, SIGTERM

    folder = db.with_name(db.name + ".logs")
    folder.mkdir(exist_ok=True)
    log_path = folder / "server.log"
    proc, base = start(db, folder, dict(os.environ), cwd=db.parent)
    monitor = Monitor(proc.pid)
    try:
        stats, jobs, elapsed = asyncio.run(drive(args, base, db, monitor))
    finally:
        stop(proc)
    server_log = log_path.read_text(errors="replace")
    tracebacks = server_log.count("Traceback")
    if tracebacks:
        stats.error("server", f"{tracebacks} traceback(s) in {log_path}")
    problems = verify(db, jobs)
    for problem in problems:
        stats.error("job", problem)

    loads = monitor.loads or [0.0]
    navigations = sum(len(v) for k, v in stats.latencies.items() if k in PAGES)
    print(f"\n{args.sessions} sessions for {elapsed:.0f} s; {navigations} page loads, "
          f"{len(stats.latencies['login'])} logins, {stats.downloads} CSV downloads "
          f"({stats.download_bytes / 1e6:.1f} MB), {stats.http_requests} HTTP responses seen by the browser")
    print(f"load average (1 min) during the run: median {statistics.median(loads):.1f}, max {max(loads):.1f}; "
          f"server CPU median {statistics.median(monitor.cpu or [0]):.0f} %, "
          f"RSS max {max(monitor.rss or [0]) / 1e6:.0f} MB; uptime at end: "
          f"{subprocess.check_output(['uptime'], text=True).strip()}")
    print("| step | count | median | p95 | max |")
    print("|---|---|---|---|---|")
    for key, values in sorted(stats.latencies.items()):
        if values:
            print(f"| {key} | {len(values)} | {statistics.median(values):.2f} s | {pct(values, 0.95):.2f} s "
                  f"| {max(values):.2f} s |")
    for job in jobs:
        print(f"job {job['job']}: exit {job['exit']}, {job['seconds']:.1f} s, run {job['run_id']}, "
              f"status {job.get('status')}, {job.get('rows_changed')} row(s) changed, "
              f"{job.get('changes')} change(s) recorded")
    print(f"errors: {len(stats.errors)}")
    for err in stats.errors[:50]:
        print(f"  {err}")
    if stats.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
