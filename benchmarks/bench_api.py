"""The API's ``POST /fhir/Patient/$match``: latency one client at a time, then 20 at once.

    python -m benchmarks.bench_api --scale small                 # the demo warehouse (2,500 patients)
    python -m benchmarks.bench_api --scale large --cache DIR     # 1M generated patients
    python -m benchmarks.bench_api --replicated --cache DIR      # 1M: 10 date-shifted copies of 100k

A real ``hygie jobs worker --api-port P`` holds the warehouse (the same API thread as
``hygie serve``, without Streamlit). Queries are real patients' traits (official name, given
names, birth date, sex; every third one with its birth name's last two letters swapped), sent
over HTTP with an analyst's token. Sequential: ``--requests`` calls, p50/p95/max of the
round trip, and the server's CPU time per call (all its threads, from ``/proc``: on a loaded
machine the round trip mostly measures the wait for a core, this does not). Concurrent: ``--clients`` threads, each ``--per-client`` calls, on one keep-alive
connection each; any non-200 answer or exception is an error. The rate limit is raised for
the run (``HYGIE_API_RATE_PER_MINUTE``) since all calls share one token.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HYGIE = str(Path(sys.executable).with_name("hygie"))
SCALES = {"small": 2_500, "medium": 100_000, "large": 1_000_000}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_warehouse(scale: str, folder: Path, cache: str | None) -> Path:
    """The demo warehouse (small) or generated patients with duplicates found (medium/large)."""
    db = folder / f"api_{scale}.duckdb"
    if db.exists():
        return db
    if scale == "small":
        from analytics.demo import build_demo

        build_demo(db)
        return db
    from analytics.access.roles import system_actor
    from analytics.identity import find_duplicates
    from analytics.warehouse import connect
    from benchmarks.bench_matching import cached_sample_frames

    patients, _, _ = cached_sample_frames(SCALES[scale], 42, cache)
    parquet = folder / f"api_{scale}_patients.parquet"
    patients.to_parquet(parquet)
    con = connect(db)
    try:
        con.execute("INSERT INTO patients BY NAME SELECT * FROM read_parquet(?)", [str(parquet)])
        con.execute("INSERT INTO users (username, role, created_at) VALUES ('analyst', 'analyst', now()) "
                    "ON CONFLICT DO NOTHING")
        find_duplicates(con, actor=system_actor())
    finally:
        con.close()
    return db


def build_replicated(folder: Path, cache: str | None, copies: int = 10) -> Path:
    """1M patients without a 1M matching run: the medium warehouse's 100,000 patients ``copies``
    times, copy k with new IPPs (``<id>-k``) and every birth date moved by k × 401 days (so that
    the copies share names, as a real population does, but not the birth-date blocking keys),
    and its identity index built (:func:`analytics.identity.normalise.build_index`). No match
    run: ``$match`` scores with the default model and thresholds."""
    from analytics.identity.normalise import build_index
    from analytics.warehouse import connect

    db = folder / f"api_replicated_{copies}x.duckdb"
    if db.exists():
        return db
    medium = build_warehouse("medium", folder, cache)
    con = connect(db)
    try:
        con.execute("ATTACH ? AS medium (READ_ONLY)", [str(medium)])
        con.execute(f"""INSERT INTO patients BY NAME
                        SELECT p.* REPLACE (p.patient_id || '-' || k AS patient_id,
                                          p.birth_date + INTERVAL (k * 401) DAY AS birth_date)
                        FROM medium.patients p, range({int(copies)}) t(k)""")  # noqa: S608 - an integer
        con.execute("INSERT INTO users BY NAME SELECT * FROM medium.users ON CONFLICT DO NOTHING")
        con.execute("DETACH medium")
        build_index(con)
    finally:
        con.close()
    return db


def queries(db: Path, n: int, seed: int = 7) -> tuple[list[dict[str, Any]], str]:
    """``n`` Parameters bodies from real patients, and an analyst token."""
    from analytics.access.roles import system_actor
    from analytics.access.tokens import create_token
    from analytics.warehouse import connect

    con = connect(db)
    try:
        token = create_token(con, system_actor(), "analyst", label="bench")[1]
        # DuckDB takes no parameter in USING SAMPLE: two integers, formatted as such
        rows = con.execute(f"""SELECT birth_name, first_names, birth_date, sex FROM patients
                               WHERE birth_name IS NOT NULL AND first_names IS NOT NULL AND birth_date IS NOT NULL
                               USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({int(seed)})""").fetchall()  # noqa: S608
    finally:
        con.close()
    rnd = random.Random(seed)
    bodies = []
    for i, (name, first, birth, sex) in enumerate(rows):
        if i % 3 == 2 and len(name) > 3:
            name = name[:-2] + name[-1] + name[-2]
        patient = {"resourceType": "Patient", "name": [{"use": "official", "family": name, "given": first.split()}],
                   "birthDate": birth.isoformat(), "gender": {"M": "male", "F": "female"}.get(sex, "unknown")}
        bodies.append({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": patient}, {"name": "count", "valueInteger": 5}]})
    rnd.shuffle(bodies)
    return bodies, token


def _call(conn: http.client.HTTPConnection, body: bytes, token: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn.request("POST", "/fhir/Patient/$match", body,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
    answer = conn.getresponse()
    answer.read()
    return answer.status, (time.perf_counter() - started) * 1000


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(scale: str, folder: Path, cache: str | None, requests: int, clients: int, per_client: int,
        replicated: bool = False) -> dict:
    db = build_replicated(folder, cache) if replicated else build_warehouse(scale, folder, cache)
    work = folder / f"run_{scale}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    copy = work / "hygie.duckdb"
    shutil.copy(db, copy)
    bodies, token = queries(copy, max(requests, clients * per_client))
    encoded = [json.dumps(b).encode() for b in bodies]
    port = _free_port()
    env = dict(os.environ, HYGIE_API_RATE_PER_MINUTE="1000000")
    log = (work / "worker.log").open("w")
    proc = subprocess.Popen([HYGIE, "--db", str(copy), "jobs", "worker", "--api-port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((work / "worker.log").read_text()) from None
                time.sleep(0.5)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1800)  # the first call builds the index
        status, first_ms = _call(conn, encoded[0], token)  # builds the in-memory search index
        assert status == 200, status
        times, errors = [], 0
        cpu_before = _cpu_seconds(proc.pid)
        for body in encoded[:requests]:
            status, ms = _call(conn, body, token)
            errors += status != 200
            times.append(ms)
        cpu_per_call = (_cpu_seconds(proc.pid) - cpu_before) * 1000 / max(len(times), 1)
        conn.close()
        concurrent: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def client(k: int) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            for j in range(per_client):
                try:
                    status, ms = _call(c, encoded[(k * per_client + j) % len(encoded)], token)
                except Exception as exc:  # noqa: BLE001 - counted as an error
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    continue
                with lock:
                    concurrent.append(ms)
                    if status != 200:
                        failures.append(f"HTTP {status}")
            c.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
    return {
        "scale": "large, replicated 10 x medium" if replicated else scale,
        "patients": 10 * SCALES["medium"] if replicated else SCALES[scale],
        "first_call_ms": round(first_ms, 1),
        "sequential": {"requests": len(times), "errors": errors, "p50_ms": round(statistics.median(times), 1),
                       "p95_ms": round(_percentile(times, 0.95), 1), "max_ms": round(max(times), 1),
                       "server_cpu_ms_per_call": round(cpu_per_call, 1)},
        "concurrent": {"clients": clients, "requests": clients * per_client, "errors": len(failures),
                       "error_samples": failures[:3], "wall_s": round(wall, 2),
                       "throughput_per_s": round(clients * per_client / wall, 1),
                       "p50_ms": round(statistics.median(concurrent), 1) if concurrent else None,
                       "p95_ms": round(_percentile(concurrent, 0.95), 1) if concurrent else None},
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--dir", default=os.environ.get("HYGIE_BENCH_DIR", "/tmp/hygie_bench"))
    parser.add_argument("--cache", default=None, help="Keep the generated patients here between runs.")
    parser.add_argument("--replicated", action="store_true",
                        help="1M patients as 10 date-shifted copies of the medium sample, index only (no 1M "
                             "matching run; see build_replicated).")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=20)
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(args.scale, folder, args.cache, args.requests, args.clients, args.per_client,
                         args.replicated), indent=2))


if __name__ == "__main__":
    main()
