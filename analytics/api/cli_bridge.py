"""Run a forwarded ``hygie`` command inside the process that owns the warehouse.

The CLI process (:mod:`analytics.cli.forward`) sends its arguments, the files it reads and the
names of the files it writes. Here the same click command runs on a cursor of the owner's
connection (:data:`analytics.cli.common.borrowed_connection`), in a request thread whose
standard streams are captured, with its files in a private temporary folder; the answer carries
the exit code, stdout, stderr and the written files, which the CLI prints and writes where the
user asked. So the output and the exit codes are those of the in-process command, by
construction.

Standard streams are process-wide: :func:`install_output_routing` replaces them once with
routers that write to the calling thread's capture buffer when it has one, and to the real
stream otherwise (the dashboard's own output is untouched).
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from analytics.errors import InvalidInput

__all__ = ["FORWARDED_COMMANDS", "install_output_routing", "run_forwarded"]

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


@contextlib.contextmanager
def _captured(stdin_text: str | None) -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper]]:
    install_output_routing()
    out, err = _stream(), _stream()
    _local.stdout, _local.stderr = out, err
    _local.stdin = _stream((stdin_text or "").encode("utf-8"))
    try:
        yield out, err
    finally:
        _local.stdout = _local.stderr = _local.stdin = None


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


def run_forwarded(con: duckdb.DuckDBPyConnection, db_path: str | Path, payload: object) -> dict[str, Any]:
    """Run the forwarded command; ``{"exit_code", "stdout", "stderr", "files"}`` (bytes in base64)."""
    from analytics.cli.common import borrowed_connection

    argv, files, stdin = _valid(payload)
    work = Path(tempfile.mkdtemp(prefix="hygie-cli-"))
    try:
        args = list(argv)
        shown: dict[str, str] = {}
        targets: dict[str, Path] = {}
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
            shown[str(target)] = str(spec.get("shown") or argv[int(key)])
        with _captured(stdin) as (out, err):
            token = borrowed_connection.set(con)
            try:
                code = _invoke(["--db", str(db_path), *args])
            finally:
                borrowed_connection.reset(token)
            out.flush()
            err.flush()
            stdout, stderr = out.buffer.getvalue(), err.buffer.getvalue()  # type: ignore[attr-defined]
        for temp, original in shown.items():  # messages name the user's paths, not ours
            stdout = stdout.replace(temp.encode(), original.encode())
            stderr = stderr.replace(temp.encode(), original.encode())
        written = {key: base64.b64encode(path.read_bytes()).decode("ascii")
                   for key, path in targets.items() if path.is_file()}
        return {"exit_code": code, "stdout": base64.b64encode(stdout).decode("ascii"),
                "stderr": base64.b64encode(stderr).decode("ascii"), "files": written}
    finally:
        shutil.rmtree(work, ignore_errors=True)
