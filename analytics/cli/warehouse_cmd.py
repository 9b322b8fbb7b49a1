"""``hygie info``, ``hygie demo`` and ``hygie serve``: the warehouse as a whole."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from analytics.cli.common import api_options, db_path, open_warehouse
from analytics.errors import InvalidInput

CORE_TABLES = ("patients", "documents", "audit_events", "staff", "schedules")


@click.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Show the warehouse's schema version and what is loaded."""
    from analytics.warehouse import schema_version

    path = db_path(ctx)
    con = open_warehouse(ctx)
    try:
        click.echo(f"warehouse: {path}")
        click.echo(f"schema version: {schema_version(con)}")
        for table in CORE_TABLES:
            count = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - fixed names
            click.echo(f"{table}: {count} rows")
        from analytics.messaging import messaging_settings

        for line in messaging_settings(con).describe():
            click.echo(line)
    finally:
        con.close()


@click.command()
@click.option("--force", is_flag=True, help="Rebuild even if the warehouse file exists.")
@click.pass_context
def demo(ctx: click.Context, force: bool) -> None:
    """Build a demo warehouse from the shipped sample hospital (with demo accounts)."""
    from analytics.demo import build_demo

    path = db_path(ctx)
    summary = build_demo(path, force=force)
    for line in summary:
        click.echo(line)


@click.command()
@click.option("--port", default=8501, show_default=True, help="Port to listen on.")
@click.option("--address", default="127.0.0.1", show_default=True, help="Address to bind (keep loopback behind a reverse proxy).")
@api_options
@click.pass_context
def serve(ctx: click.Context, port: int, address: str, api_port: int, api_address: str) -> None:
    """Serve the dashboard (Streamlit) on the warehouse, and its API (FHIR $match, CLI forwarding)."""
    path = db_path(ctx)
    upload_mb = os.environ.get("HYGIE_MAX_UPLOAD_MB", "200")
    if not upload_mb.isdigit() or int(upload_mb) < 1:
        raise InvalidInput(f"HYGIE_MAX_UPLOAD_MB={upload_mb!r}: expected a whole number of megabytes (>= 1)")
    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    env = dict(os.environ, HYGIE_DB=str(path.resolve()), HYGIE_API_PORT=str(api_port), HYGIE_API_ADDRESS=api_address)
    cmd = [
        # dashboard.server is Streamlit's own command line, minus its public-IP lookup.
        sys.executable, "-m", "dashboard.server", "run", str(app),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--server.enableXsrfProtection", "true",
        "--server.enableCORS", "true",
        "--server.maxUploadSize", upload_mb,
        "--server.fileWatcherType", "none",
        "--client.disableDataExport", "true",
        "--client.toolbarMode", "viewer",
        "--client.showErrorDetails", "none",
        "--client.showErrorLinks", "false",  # no "Ask Google/ChatGPT" with an error's text
        # No parent frame may drive the app through postMessage (Streamlit's default trusts
        # its cloud domains), no agent API, no static folder: said here so that a stray
        # .streamlit/config.toml or STREAMLIT_* variable cannot turn them on.
        "--client.allowedOrigins", "",
        "--server.enableAgentApi", "false",
        "--server.enableStaticServing", "false",
        "--server.runOnSave", "false",
        "--server.allowRunOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
    ]
    click.echo(f"Hygie dashboard on http://{address}:{port} (warehouse {path})", err=True)
    if api_port:
        click.echo(f"Hygie API on http://{api_address}:{api_port} (FHIR Patient/$match, CLI forwarding)", err=True)
    # Become the Streamlit server (no wrapper process): signals from systemd, a terminal or a
    # test reach the process that holds the warehouse, and it can release the lock cleanly.
    os.execve(sys.executable, cmd, env)
