"""Run the API in a thread of the process that owns the warehouse (uvicorn on a bound socket).

``hygie serve`` (the Streamlit server) and ``hygie jobs worker`` call :func:`start_api` right
after opening the warehouse. The socket is bound here, synchronously, so that a port already
in use is reported to the caller (who logs it and goes on serving the dashboard) instead of
killing a thread silently. Once bound, ``<db>.api.json`` tells CLI processes where to send
their commands (:mod:`analytics.api.runtime`).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analytics.api.runtime import ApiRuntime, remove_runtime, write_runtime
from analytics.api.settings import DEFAULT_API_PORT, ApiSettings, api_settings
from analytics.errors import WarehouseError

__all__ = ["ApiServer", "start_api"]

log = logging.getLogger("hygie.api")


@dataclass
class ApiServer:
    """A running API: its thread, address and port; :meth:`stop` ends it."""

    thread: threading.Thread
    server: object  # uvicorn.Server
    address: str
    port: int
    db_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout)
        remove_runtime(self.db_path)


_started: dict[str, ApiServer] = {}
_lock = threading.Lock()


def _bind(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise WarehouseError(f"API: cannot listen on {address}:{port} ({exc.strerror}); "
                             "choose another port with --api-port") from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def start_api(con: duckdb.DuckDBPyConnection, db_path: str | Path, *, address: str = "127.0.0.1",
              port: int = DEFAULT_API_PORT, settings: ApiSettings | None = None) -> ApiServer:
    """Start (once per warehouse and process) the API thread on ``address:port``.

    Raises :class:`WarehouseError` when the port cannot be bound; the caller decides whether
    that stops it (``hygie jobs worker``) or not (the dashboard keeps serving).
    """
    import uvicorn

    from analytics.api.app import create_app
    from analytics.api.cli_bridge import install_output_routing

    key = str(Path(db_path).resolve())
    with _lock:
        running = _started.get(key)
        if running is not None and running.thread.is_alive():
            return running
        settings = settings or api_settings()
        sock = _bind(address, port)
        cli_key = secrets.token_urlsafe(32)
        install_output_routing()
        config = uvicorn.Config(create_app(con, db_path, settings, cli_key), lifespan="off", log_config=None, log_level="warning",
                                access_log=False, server_header=False, timeout_keep_alive=5,
                                limit_concurrency=1024)  # a burst of short connections is not refused
        server = uvicorn.Server(config)

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except Exception:  # the dashboard goes on; the log says why the API stopped
                log.exception("the API stopped")
            finally:
                sock.close()

        thread = threading.Thread(target=serve, name="hygie-api", daemon=True)
        thread.start()
        bound_port = sock.getsockname()[1]
        write_runtime(db_path, ApiRuntime(os.getpid(), address, bound_port, cli_key))
        atexit.register(remove_runtime, db_path, os.getpid())
        running = ApiServer(thread, server, address, bound_port, Path(db_path))
        _started[key] = running
        log.warning("Hygie API on http://%s:%s (warehouse %s)", address, bound_port, db_path)
        return running
