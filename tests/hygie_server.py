"""Start and stop a real ``hygie serve`` for tests that talk to it over HTTP (shared helper)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HYGIE = str(Path(sys.executable).with_name("hygie"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(db: Path, folder: Path, env: dict[str, str], cwd: Path | None = None,
          api_port: int | None = None) -> tuple[subprocess.Popen, str]:
    """``hygie --db DB serve`` on a free loopback port (log in ``folder/server.log``); wait for health.

    Its API listens on ``api_port`` (then also waited for), else on another free port: never on
    the default 8502, which servers started in parallel would share.
    """
    port = free_port()
    api = api_port or free_port()
    with (folder / "server.log").open("wb") as log:
        proc = subprocess.Popen([HYGIE, "--db", str(db), "serve", "--port", str(port), "--api-port", str(api)],
                                cwd=cwd or folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    health = [f"{base}/_stcore/health"] + ([f"http://127.0.0.1:{api_port}/health"] if api_port else [])
    deadline = time.monotonic() + 60
    while True:
        try:
            for url in health:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status != 200:
                        raise OSError(answer.status)
            return proc, base
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"hygie serve did not start: {(folder / 'server.log').read_text(errors='replace')}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it does not stop within 15 s."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
