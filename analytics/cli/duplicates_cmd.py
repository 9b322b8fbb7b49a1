"""``hygie duplicates``: find, export and search duplicate identities and documents.

A thin translator over :mod:`analytics.identity` and :mod:`analytics.documents`. Exports go
through :func:`analytics.exports.build_export` (pseudonymised unless ``--identified`` by a role
that may, recorded in the access log).
"""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from analytics.cli.common import HygieGroup, open_warehouse
from analytics.cli.users_cmd import as_option, cli_actor
from analytics.errors import InvalidInput


def _threshold(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """Thresholds are checked by the engine (exact message); here only parsed."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"--{param.name.replace('_', '-')}: '{value}' is not a number between 0 and 1") from None


def _documents_module():
    try:
        import analytics.documents as documents
    except ImportError:
        return None
    return documents if hasattr(documents, "find_duplicate_documents") else None


def _write_export(con, actor, name: str, frame, out: str, dialect: str, identified: bool, policy=None) -> str:
    from analytics.exports import build_export

    result = build_export(con, actor, name, frame, dialect, identified, columns_policy=policy)
    Path(out).write_bytes(result.data)
    how = "pseudonymised" if result.pseudonymised else ("aggregate" if result.aggregate else "identified")
    return f"Exported {result.rows} rows to {out} ({dialect}, {how})."


_export_options = [
    click.option("--dialect", type=click.Choice(["excel-fr", "standard"]), default="excel-fr", show_default=True,
                 help="excel-fr: ';' + UTF-8 BOM + decimal comma; standard: ',' + UTF-8."),
    click.option("--identified", is_flag=True, help="Do not pseudonymise patient ids (admin role only)."),
]


def _with_export_options(func):
    for option in reversed(_export_options):
        func = option(func)
    return func


@click.group(cls=HygieGroup)
def duplicates() -> None:
    """Find duplicate patient identities and duplicate documents."""


@duplicates.command()
@click.option("--threshold-match", callback=_threshold, default=None, metavar="X",
              help="Score from which a pair is decided 'match' (default 0.9 or the setting).")
@click.option("--threshold-review", callback=_threshold, default=None, metavar="Y",
              help="Score from which a pair goes to review (default 0.2 or the setting).")
@click.option("--incremental", is_flag=True, help="Only match patients added since the last run.")
@click.option("--skip-documents", is_flag=True, help="Patients only.")
@as_option
@click.pass_context
def find(ctx: click.Context, threshold_match: float | None, threshold_review: float | None,
         incremental: bool, skip_documents: bool, as_user: str | None) -> None:
    """Find duplicate patients (and duplicate documents) and store the results."""
    from analytics.identity import find_duplicates, match_new_patients
    from analytics.identity.decide import resolve_thresholds

    con = open_warehouse(ctx)
    try:
        resolve_thresholds(con, threshold_match, threshold_review)  # refuse before any work
        actor = cli_actor(con, as_user)
        if incremental:
            if threshold_match is not None or threshold_review is not None:
                raise InvalidInput("--incremental keeps the thresholds of the last run; run without it to change them")
            summary = match_new_patients(con, actor=actor)
        else:
            summary = find_duplicates(con, threshold_match=threshold_match,
                                      threshold_review=threshold_review, actor=actor)
        for line in summary.summary_lines():
            click.echo(line)
        if not skip_documents:
            documents = _documents_module()
            if documents is None:
                click.echo("Duplicate documents: not available in this installation (skipped).")
            else:
                for line in documents.find_duplicate_documents(con, actor=actor).summary_lines():
                    click.echo(line)
    finally:
        con.close()


@duplicates.command()
@click.option("--pairs", "pairs_out", metavar="FILE.csv", help="Scored pairs with per-field levels.")
@click.option("--clusters", "clusters_out", metavar="FILE.csv", help="patient_id, cluster_id.")
@click.option("--decision", "decisions", multiple=True, type=click.Choice(["match", "review", "non-match"]),
              help="Pairs to export (repeatable; default: match and review).")
@_with_export_options
@as_option
@click.pass_context
def export(ctx: click.Context, pairs_out: str | None, clusters_out: str | None, decisions: tuple[str, ...],
           dialect: str, identified: bool, as_user: str | None) -> None:
    """Export the latest run's pairs and/or clusters as CSV."""
    from analytics.exports import TABLE_POLICIES
    from analytics.identity import export_clusters, export_pairs
    from analytics.identity.comparisons import FIELDS

    if not pairs_out and not clusters_out:
        raise InvalidInput("duplicates export: give --pairs FILE.csv and/or --clusters FILE.csv")
    con = open_warehouse(ctx)
    try:
        actor = cli_actor(con, as_user)
        if pairs_out:
            frame = export_pairs(con, actor, decisions=decisions or ("match", "review"))
            policy = {**TABLE_POLICIES.get("match_pairs", {}), **dict.fromkeys(
                [f"{f}_level" for f in FIELDS] + ["rule"], "keep")}
            click.echo(_write_export(con, actor, "match_pairs", frame, pairs_out, dialect, identified, policy))
        if clusters_out:
            frame = export_clusters(con, actor)
            click.echo(_write_export(con, actor, "match_clusters", frame, clusters_out, dialect, identified))
    finally:
        con.close()


@duplicates.command()
@click.option("--birth-name", default=None, help="Nom de naissance.")
@click.option("--used-name", default=None, help="Nom utilisé.")
@click.option("--first-names", default=None, help="Prénoms (space-separated).")
@click.option("--birth-date", default=None, help="dd/mm/yyyy.")
@click.option("--sex", type=click.Choice(["M", "F", "U"], case_sensitive=False), default=None)
@click.option("--birth-place", default=None, help="INSEE code of the birth place.")
@click.option("--ins", default=None)
@click.option("--phone", default=None)
@click.option("--limit", type=int, default=10, show_default=True)
@as_option
@click.pass_context
def search(ctx: click.Context, birth_name, used_name, first_names, birth_date, sex, birth_place, ins, phone,
           limit: int, as_user: str | None) -> None:
    """Search identities before creating one: ranked candidates with their score."""
    from analytics.identity import search_identities

    con = open_warehouse(ctx)
    try:
        frame = search_identities(
            con, cli_actor(con, as_user), birth_name=birth_name, used_name=used_name, first_names=first_names,
            birth_date=birth_date, sex=sex.upper() if sex else None, birth_place=birth_place, ins=ins,
            phone=phone, limit=limit)
    finally:
        con.close()
    if frame.empty:
        click.echo("No candidate identity.")
        return
    for row in frame.itertuples(index=False):
        date = "" if pd.isna(row.birth_date) else row.birth_date.strftime("%d/%m/%Y")
        used = "" if pd.isna(row.used_name) or not row.used_name else f" ({row.used_name})"
        click.echo(f"{row.score:.4f}  {row.decision:<9}  {row.patient_id}  {_text(row.birth_name)}{used}  "
                   f"{_text(row.first_names)}  {date}  {_text(row.sex)}")


def _text(value: object) -> str:
    """A trait as printed: empty when the record has none."""
    return "" if value is None or pd.isna(value) else str(value)


@duplicates.group(cls=HygieGroup)
def documents() -> None:
    """Duplicate documents (exact, near, re-typed)."""


@documents.command(name="find")
@as_option
@click.pass_context
def documents_find(ctx: click.Context, as_user: str | None) -> None:
    """Find duplicate documents and store them."""
    module = _documents_module()
    if module is None:
        raise InvalidInput("duplicate documents are not available in this installation")
    con = open_warehouse(ctx)
    try:
        actor = cli_actor(con, as_user)
        for line in module.find_duplicate_documents(con, actor=actor).summary_lines():
            click.echo(line)
    finally:
        con.close()


@documents.command(name="export")
@click.option("--out", required=True, metavar="FILE.csv")
@click.option("--kind", type=click.Choice(["exact", "near", "retyped"]), default=None)
@click.option("--limit", type=int, default=100000, show_default=True)
@_with_export_options
@as_option
@click.pass_context
def documents_export(ctx: click.Context, out: str, kind: str | None, limit: int, dialect: str, identified: bool,
                     as_user: str | None) -> None:
    """Export the latest duplicate-document pairs with their reason."""
    module = _documents_module()
    if module is None:
        raise InvalidInput("duplicate documents are not available in this installation")
    con = open_warehouse(ctx)
    try:
        actor = cli_actor(con, as_user)
        frame = module.duplicate_documents(con, actor, kind=kind, limit=limit)
        click.echo(_write_export(con, actor, "document_duplicates", frame, out, dialect, identified))
    finally:
        con.close()
