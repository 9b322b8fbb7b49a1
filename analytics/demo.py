"""Build a demo warehouse from the shipped small sample hospital (``hygie demo``).

The five sample files are imported through the real importer, in dependency order, then the
post-import steps in :data:`POST_IMPORT_STEPS` run (demo accounts, duplicate detection,
time-sink precomputation are added there by the areas that own them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from analytics.errors import InvalidInput

__all__ = ["IMPORT_ORDER", "POST_IMPORT_STEPS", "build_demo", "default_sample_dir"]

#: (table, file) in the order they are imported: staff first, events last.
IMPORT_ORDER: tuple[tuple[str, str], ...] = (
    ("staff", "staff.csv"),
    ("schedules", "schedules.csv"),
    ("patients", "patients.csv"),
    ("documents", "documents.csv"),
    ("audit_events", "audit_events.csv"),
)



def default_sample_dir() -> Path:
    """The shipped small sample (``sample_data/small`` next to the ``analytics`` package)."""
    try:
        from sample_data import SMALL_DIR
    except ImportError:  # an editable install made before sample_data was a package
        return Path(__file__).resolve().parents[1] / "sample_data" / "small"
    return SMALL_DIR


#: A post-import step takes the open connection and returns report lines.
PostImportStep = Callable[[duckdb.DuckDBPyConnection], list[str]]

def _demo_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    from analytics.access.auth import create_demo_accounts

    names = create_demo_accounts(con)
    return [f"Demo accounts: {', '.join(names) or 'already present'} (password: hygie-demo "
            "unless HYGIE_DEMO_PASSWORD was set)"]


def _identity_duplicates(con: duckdb.DuckDBPyConnection) -> list[str]:
    from analytics.access.roles import system_actor
    from analytics.identity import find_duplicates

    return find_duplicates(con, actor=system_actor()).summary_lines()


def _document_duplicates(con: duckdb.DuckDBPyConnection) -> list[str]:
    from analytics.access.roles import system_actor
    from analytics.documents import find_double_entry, find_duplicate_documents

    actor = system_actor()
    lines = find_duplicate_documents(con, actor=actor).summary_lines()
    pairs = find_double_entry(con, actor=actor)
    return [*lines, f"Double entry: {len(pairs)} document pairs with re-typed passages"]


def _time_sinks(con: duckdb.DuckDBPyConnection) -> list[str]:
    from analytics.timesinks import demo_step

    return demo_step(con)


#: What makes the demo complete once the files are in: accounts, analyses, precomputation.
POST_IMPORT_STEPS: list[PostImportStep] = [
    _demo_accounts,
    _identity_duplicates,
    _document_duplicates,
    _time_sinks,
]


def build_demo(
    path: Path | str,
    force: bool = False,
    *,
    sample_dir: Path | None = None,
    steps: list[PostImportStep] | None = None,
) -> list[str]:
    """Create the warehouse at ``path`` from the small sample; return report lines.

    Refuses to touch an existing file unless ``force`` (then the file and its WAL are deleted
    and rebuilt). ``sample_dir`` and ``steps`` are test seams (defaults: the shipped sample
    and :data:`POST_IMPORT_STEPS`).
    """
    from analytics.access.roles import system_actor
    from analytics.importing import import_file
    from analytics.warehouse import connect

    target = Path(path)
    source = Path(sample_dir) if sample_dir is not None else default_sample_dir()
    missing = [name for _, name in IMPORT_ORDER if not (source / name).is_file()]
    if missing:
        raise InvalidInput(f"sample hospital incomplete in {source}: missing {', '.join(missing)}")
    if target.exists():
        if not force:
            raise InvalidInput(f"{target} already exists; use --force to rebuild the demo warehouse")
        for leftover in (target, target.with_name(target.name + ".wal")):
            leftover.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)

    lines = [f"Demo warehouse {target} from {source}"]
    con = connect(target)
    try:
        for table, name in IMPORT_ORDER:
            report = import_file(con, table, source / name, source="default", actor=system_actor())
            lines.extend(report.summary_lines())
        for step in POST_IMPORT_STEPS if steps is None else steps:
            lines.extend(step(con))
        counts = ", ".join(
            f"{con.execute(f'SELECT count(*) FROM {table}').fetchone()[0]} {table}"  # noqa: S608 - fixed names
            for table, _ in IMPORT_ORDER
        )
        lines.append(f"Demo warehouse ready: {counts}")
    finally:
        con.close()
    return lines
