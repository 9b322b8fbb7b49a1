"""Run a forwarded ``hygie`` command inside the process that owns the warehouse.

The CLI process (:mod:`analytics.cli.forward`) sends its arguments, the files it reads and the
names of the files it writes. Here the same click command runs on a cursor of the owner's
connection (:data:`analytics.cli.common.borrowed_connection`), in a request thread whose
standard streams are captured, with its files in a private temporary folder. The answer is
streamed as JSON lines: what the command prints, as it prints it, DuckDB's progress of the query
running now, then the exit code and the written files, which the CLI prints and writes where
the user asked. So the output and the exit codes are those of the in-process command, by
construction, and a long import or matching run shows its progress as it goes.

Standard streams are process-wide: :func:`install_output_routing` replaces them once with
routers that write to the calling thread's capture buffer when it has one, and to the real
stream otherwise (the dashboard's own output is untouched).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from analytics.errors import InvalidInput

__all__ = ["FORWARDED_COMMANDS", "install_output_routing", "stream_forwarded"]

log = logging.getLogger("hygie.api")

#: Top-level commands a CLI process hands to the owner when the warehouse is held.
FORWARDED_COMMANDS = frozenset({"info", "import", "duplicates", "timesinks", "export", "users", "report"})

_local = threading.local()
_install_lock = threading.Lock()


class _Router:
    """A standard stream that writes to the current thread's capture, else to the real stream."""

    def __init__(self, name: str, original: Any) -> None:
        self._name = name
        self._original = original

    def _target(self) -> Any:
        return getattr(_local, self._name, None) or self._original

    def write(self, text: Any) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        target = self._target()
        if target is not None:
            target.flush()

    def readline(self, *args: Any) -> Any:
        return self._target().readline(*args)

    def read(self, *args: Any) -> Any:
        return self._target().read(*args)

    def __getattr__(self, item: str) -> Any:
        return getattr(self._target(), item)


def install_output_routing() -> None:
    """Route ``sys.stdin/stdout/stderr`` through per-thread captures (once per process)."""
    with _install_lock:
        for name in ("stdin", "stdout", "stderr"):
            current = getattr(sys, name)
            if not isinstance(current, _Router):
                setattr(sys, name, _Router(name, current))


def _stream(data: bytes = b"") -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict", write_through=True)


class _Sink(io.RawIOBase):
    """A binary stream whose writes become ``(name, bytes)`` events on a queue."""

    def __init__(self, name: str, events: queue.Queue) -> None:
        self._name, self._events = name, events

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if chunk:
            self._events.put((self._name, chunk))
        return len(chunk)


def _sink(name: str, events: queue.Queue) -> io.TextIOWrapper:
    return io.TextIOWrapper(_Sink(name, events), encoding="utf-8", errors="strict", write_through=True)  # type: ignore[arg-type]


@contextlib.contextmanager
def _captured(stdin_text: str | None, events: queue.Queue) -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper]]:
    install_output_routing()
    out, err = _sink("stdout", events), _sink("stderr", events)
    _local.stdout, _local.stderr = out, err
    _local.stdin = _stream((stdin_text or "").encode("utf-8"))
    try:
        yield out, err
    finally:
        _local.stdout = _local.stderr = _local.stdin = None


class _Watched:
    """The owner's connection as a forwarded command sees it: the cursors it opens are kept, so
    that their running query's progress can be read from another thread."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.cursors: list[duckdb.DuckDBPyConnection] = []

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self._con.cursor()
        # progress is measured (as the in-process CLI's bar), but printed by the CLI, not here
        cur.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
        self.cursors.append(cur)
        return cur

    def progress(self) -> float | None:
        """Percentage done of the query running now (DuckDB's estimate), None when none runs."""
        for cur in reversed(self.cursors):
            try:
                done = cur.query_progress()
            except duckdb.Error:
                continue
            if done is not None and done >= 0:
                return float(done)
        return None


def _invoke(args: list[str]) -> int:
    import click

    from analytics.cli import main

    try:
        result = main.main(args=args, prog_name="hygie", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception:  # noqa: BLE001 - the owner keeps serving; its log has the traceback
        log.exception("forwarded command %s crashed", args[2:4])
        click.echo("Error: the command failed inside the serving process (see its log)", err=True)
        return 1
    return result if isinstance(result, int) else 0


def _valid(payload: object) -> tuple[list[str], dict[str, dict[str, Any]], str | None]:
    if not isinstance(payload, dict):
        raise InvalidInput("the request is not a JSON object")
    argv = payload.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise InvalidInput("argv: a non-empty list of strings is expected")
    if argv[0] not in FORWARDED_COMMANDS:
        raise InvalidInput(f"'{argv[0]}' is not a command the serving process runs for the CLI")
    files = payload.get("files") or {}
    if not isinstance(files, dict):
        raise InvalidInput("files: an object is expected")
    for key, spec in files.items():
        if not (isinstance(key, str) and key.isdigit() and int(key) < len(argv) and isinstance(spec, dict)
                and spec.get("mode") in ("in", "out")):
            raise InvalidInput(f"files: entry {key!r} is malformed")
    stdin = payload.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise InvalidInput("stdin: a string is expected")
    return argv, files, stdin


def _event(**fields: Any) -> bytes:
    return json.dumps(fields).encode("utf-8") + b"\n"


def stream_forwarded(con: duckdb.DuckDBPyConnection, db_path: str | Path, payload: object,
                     progress_every_s: float = 1.0) -> Iterator[bytes]:
    """Validate the forwarded command (:class:`InvalidInput` before anything runs), then run it
    in a thread and yield its answer as JSON lines, as it goes:

    - ``{"stdout": b64}`` / ``{"stderr": b64}``: what the command printed, when it printed it;
    - ``{"progress": 42.0}``: DuckDB's estimate for the query running now, when it moved;
    - last, ``{"exit_code": n, "files": {position: b64}}``: the written files.
    """
    from analytics.cli.common import borrowed_connection

    argv, files, stdin = _valid(payload)
    work = Path(tempfile.mkdtemp(prefix="hygie-cli-"))
    args = list(argv)
    shown: dict[bytes, bytes] = {}
    targets: dict[str, Path] = {}
    try:
        for key, spec in files.items():
            name = Path(str(spec.get("name") or "file")).name or "file"
            target = work / key / name
            target.parent.mkdir()
            if spec["mode"] == "in":
                try:
                    target.write_bytes(base64.b64decode(str(spec.get("data", "")), validate=True))
                except ValueError:
                    raise InvalidInput(f"files: entry {key!r} is not valid base64") from None
            else:
                targets[key] = target
            args[int(key)] = str(target)
            shown[str(target).encode()] = str(spec.get("shown") or argv[int(key)]).encode()
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return _run_streamed(con, db_path, args, stdin, shown, targets, work, borrowed_connection, progress_every_s)


def _run_streamed(con: duckdb.DuckDBPyConnection, db_path: str | Path, args: list[str], stdin: str | None,
                  shown: dict[bytes, bytes], targets: dict[str, Path], work: Path, borrowed: Any,
                  progress_every_s: float) -> Iterator[bytes]:
    events: queue.Queue = queue.Queue()
    watched = _Watched(con)
    result: dict[str, int] = {}

    def command() -> None:
        try:
            with _captured(stdin, events) as (out, err):
                token = borrowed.set(watched)
                try:
                    result["exit_code"] = _invoke(["--db", str(db_path), *args])
                finally:
                    borrowed.reset(token)
                out.flush()
                err.flush()
        finally:
            events.put(("done", b""))

    thread = threading.Thread(target=command, name="hygie-cli-forwarded", daemon=True)
    try:
        thread.start()
        last_progress: float | None = None
        while True:
            try:
                name, chunk = events.get(timeout=progress_every_s)
            except queue.Empty:
                done = watched.progress()
                if done is not None and (last_progress is None or abs(done - last_progress) >= 1.0):
                    last_progress = done
                    yield _event(progress=round(done, 1))
                continue
            if name == "done":
                break
            for temp, original in shown.items():  # messages name the user's paths, not ours
                chunk = chunk.replace(temp, original)
            yield _event(**{name: base64.b64encode(chunk).decode("ascii")})
        thread.join()
        written = {key: base64.b64encode(path.read_bytes()).decode("ascii")
                   for key, path in targets.items() if path.is_file()}
        yield _event(exit_code=result.get("exit_code", 1), files=written)
    finally:
        shutil.rmtree(work, ignore_errors=True)
