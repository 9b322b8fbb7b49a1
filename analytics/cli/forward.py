"""Hand a command to the process that holds the warehouse, through its API, and print its answer.

DuckDB lets one process write a file. When ``hygie serve`` or ``hygie jobs worker`` holds the
warehouse, it serves a local API and says where in ``<db>.api.json``
(:mod:`analytics.api.runtime`). Then ``hygie info``, ``import``, ``duplicates …``,
``timesinks …``, ``export``, ``users …`` and ``report …`` send their arguments there; the owner runs the same
command (:mod:`analytics.api.cli_bridge`) and answers with its exit code, output and written
files, which are printed and written here as they come (the output line by line, DuckDB's
progress of long queries as ``progress N%`` lines on stderr): same output, same exit codes,
same files. The files a command reads (``hygie import FILE``) travel with the request; the files it writes
(``--out``, ``--pairs``, ``--clusters``, ``--csv``) come back and are written with mode 0600.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from analytics.errors import WarehouseError

__all__ = ["forward"]

#: Destinations (click parameter names) of the options that name a file the command writes.
OUTPUT_PARAMS = frozenset({"out", "pairs_out", "clusters_out", "csv_file"})
#: Parameters naming a file the command reads.
INPUT_PARAMS = frozenset({"file"})
_TIMEOUT_S = 6 * 3600.0


def _leaf(args: list[str]) -> tuple[click.Command, list[str]] | None:
    """The command ``args`` name and the arguments left for it (None if they name none)."""
    from analytics.cli import main

    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group) and rest:
        sub = command.get_command(click.Context(command), rest[0])
        if sub is None:
            return None
        command, rest = sub, rest[1:]
    return (command, rest) if not isinstance(command, click.Group) else None


def _file_positions(command: click.Command, rest: list[str], offset: int) -> dict[int, str]:
    """Position in the whole argument list -> 'in' / 'out', for file arguments."""
    positions: dict[int, str] = {}
    flags: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name in OUTPUT_PARAMS:
            flags.update(dict.fromkeys(param.opts, "out"))
    seen_positional = 0
    file_index = next((i for i, p in enumerate(p for p in command.params if isinstance(p, click.Argument))
                       if p.name in INPUT_PARAMS), None)
    takes_value = {opt for p in command.params if isinstance(p, click.Option) and not p.is_flag
                   for opt in p.opts}
    i = 0
    while i < len(rest):
        token = rest[i]
        name, _, inline = token.partition("=")
        if name in flags:
            if inline:
                raise click.UsageError(f"{name}=…: write '{name} FILE' when the warehouse is held by another process")
            if i + 1 < len(rest) and rest[i + 1] != "-":
                positions[offset + i + 1] = flags[name]
            i += 2
            continue
        if token.startswith("-") and token != "-":
            i += 2 if token in takes_value and not inline else 1
            continue
        if seen_positional == file_index:
            positions[offset + i] = "in"
        seen_positional += 1
        i += 1
    return positions


def _payload(args: list[str]) -> dict[str, Any] | None:
    found = _leaf(args)
    if found is None:
        return None
    command, rest = found
    offset = len(args) - len(rest)
    files: dict[str, dict[str, Any]] = {}
    for index, mode in _file_positions(command, rest, offset).items():
        path = Path(args[index])
        spec: dict[str, Any] = {"mode": mode, "name": path.name, "shown": args[index]}
        if mode == "in":
            try:
                spec["data"] = base64.b64encode(path.read_bytes()).decode("ascii")
            except OSError:
                return None  # let the command say, in-process, that the file cannot be read
        files[str(index)] = spec
    stdin = sys.stdin.read() if "--password-stdin" in rest else None
    return {"argv": args, "files": files, "stdin": stdin}


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def forward(db: Path, args: list[str]) -> int | None:
    """Run ``args`` in the owner's process when one holds ``db``; its exit code, or ``None`` to
    run in this process (no owner, a command that does not touch the warehouse, help)."""
    from analytics.api.cli_bridge import FORWARDED_COMMANDS
    from analytics.api.runtime import read_runtime

    if not args or args[0] not in FORWARDED_COMMANDS or any(a in ("--help", "-h") for a in args):
        return None
    runtime = read_runtime(db)
    if runtime is None or runtime.pid == os.getpid():
        return None
    payload = _payload(args)
    if payload is None:
        return None
    body = json.dumps(payload).encode("utf-8")
    conn = http.client.HTTPConnection(runtime.connect_host, runtime.port, timeout=_TIMEOUT_S)
    try:
        try:
            conn.request("POST", "/cli", body, {"Authorization": f"Bearer {runtime.cli_key}",
                                                "Content-Type": "application/json"})
            answer = conn.getresponse()
        except ConnectionRefusedError:
            return None  # the owner just stopped: the warehouse is probably free again
        except OSError as exc:
            raise WarehouseError(f"{db}: held by process {runtime.pid}, whose API did not answer ({exc})") from None
        if answer.status != 200:
            raw = answer.read()
            try:
                text = json.loads(raw)["issue"][0]["diagnostics"]
            except (ValueError, KeyError, IndexError, TypeError):
                text = raw[:200].decode("utf-8", "replace")
            raise WarehouseError(f"{db}: held by process {runtime.pid}, which refused the command "
                                 f"(HTTP {answer.status}): {text}")
        click.echo(f"warehouse held by process {runtime.pid}: command run by it", err=True)
        return _print_stream(db, runtime.pid, answer, args)
    finally:
        conn.close()


def _print_stream(db: Path, pid: int, answer: http.client.HTTPResponse, args: list[str]) -> int:
    """Print the owner's JSON lines as they come (output, progress); write the files; exit code."""
    shown_progress = -1
    try:
        for raw in iter(answer.readline, b""):
            event = json.loads(raw)
            if "stdout" in event or "stderr" in event:
                stream = sys.stdout if "stdout" in event else sys.stderr
                stream.flush()
                stream.buffer.write(base64.b64decode(event.get("stdout") or event.get("stderr") or ""))
                stream.buffer.flush()
            elif "progress" in event:
                done = int(event["progress"])
                if done != shown_progress:  # as jobs print theirs: a line on stderr
                    shown_progress = done
                    click.echo(f"progress {done}%", err=True)
            elif "error" in event:
                raise WarehouseError(f"{db}: process {pid} could not finish the command: {event['error']}")
            elif "exit_code" in event:
                for key, data in (event.get("files") or {}).items():
                    _write_private(Path(args[int(key)]), base64.b64decode(data))
                return int(event["exit_code"])
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise WarehouseError(f"{db}: the answer of process {pid} was cut short ({exc})") from None
    raise WarehouseError(f"{db}: the answer of process {pid} ended without an exit code")
