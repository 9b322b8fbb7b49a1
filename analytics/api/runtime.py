"""``<db>.api.json``: where the process that owns the warehouse serves its API, and its CLI key.

Written (mode 0600) by :func:`analytics.api.server.start_api` once the port is bound, removed
when the process exits. A CLI process that finds it, with its process alive, sends its command
there instead of opening the warehouse (DuckDB lets one process write a file). The CLI key in it
acts as the system administrator, like opening the warehouse file itself: whoever can read
files beside the warehouse already holds its data.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from analytics.jobs.queue import pid_alive

__all__ = ["ApiRuntime", "read_runtime", "remove_runtime", "runtime_path", "write_runtime"]


@dataclass(frozen=True)
class ApiRuntime:
    pid: int
    address: str
    port: int
    cli_key: str

    @property
    def connect_host(self) -> str:
        """Where a local client connects: loopback when the API listens on every address."""
        return "127.0.0.1" if self.address in ("0.0.0.0", "", "::") else self.address


def runtime_path(db_path: str | Path) -> Path:
    """``<db>.api.json`` next to the warehouse file."""
    db = Path(db_path).resolve()
    return db.with_name(db.name + ".api.json")


def write_runtime(db_path: str | Path, runtime: ApiRuntime) -> Path:
    """Write the runtime file atomically, readable by the owner only."""
    path = runtime_path(db_path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"pid": runtime.pid, "address": runtime.address, "port": runtime.port,
                   "cli_key": runtime.cli_key}, fh)
    os.replace(tmp, path)
    return path


def read_runtime(db_path: str | Path) -> ApiRuntime | None:
    """The live owner's API of this warehouse, or ``None`` (no file, unreadable, process gone)."""
    try:
        data = json.loads(runtime_path(db_path).read_text(encoding="utf-8"))
        runtime = ApiRuntime(int(data["pid"]), str(data["address"]), int(data["port"]), str(data["cli_key"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return runtime if pid_alive(runtime.pid) else None


def remove_runtime(db_path: str | Path, pid: int | None = None) -> None:
    """Remove the runtime file if it is this process's (``pid``) own."""
    path = runtime_path(db_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if int(data.get("pid", -1)) == (pid or os.getpid()):
            path.unlink()
    except (OSError, ValueError, TypeError, AttributeError):
        pass
