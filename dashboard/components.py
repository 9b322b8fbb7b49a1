"""Pieces shared by pages: the acting user, error display, paging, traced views, exports."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator

import duckdb
import pandas as pd
import streamlit as st

from analytics import exports
from analytics.access import access_log
from analytics.access.roles import Actor, Permission, allowed
from analytics.errors import HygieError
from dashboard import auth, state
from dashboard.i18n import error_text, t

__all__ = [
    "actor",
    "aggregate_safe",
    "export_button",
    "guarded",
    "page_window",
    "record_view",
]

log = logging.getLogger("hygie.dashboard")


def actor() -> Actor:
    """The signed-in user; pages are only routed to when there is one."""
    current = st.session_state.get(auth.ACTOR_KEY)
    if current is None:  # a page reached without app.py (should not happen)
        st.stop()
    return current


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s:;,']+)+[\\/]?")


def aggregate_safe(text: str | None) -> str | None:
    """``text`` (an engine message) for a user without the patient-data right: quoted values
    (patient ids, raw cells) become ``'…'`` and server paths their last part."""
    if not isinstance(text, str):
        return text
    text = _QUOTED.sub("'…'", text)
    return _PATH.sub(lambda m: m.group(0).rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1], text)


def can(permission: Permission) -> bool:
    """Whether the signed-in user's role grants ``permission`` (to hide what it cannot do)."""
    return allowed(actor(), permission)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Show an engine refusal as ``st.error`` with its message; hide anything unexpected."""
    try:
        yield
    except HygieError as exc:
        st.error(error_text(exc))
    except Exception:
        log.exception("unexpected error in a dashboard action")
        st.error(t("error.generic"))


def french_uploader() -> None:
    """Streamlit's file uploader writes "Upload" and "200MB per file" in English, in its own code:
    hide both (the label already gives the size limit in French) and show the button in French."""
    st.html(
        "<style>"
        '[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }'
        '[data-testid="stFileUploaderDropzone"] button { visibility: hidden; position: relative; min-width: 11rem; }'
        '[data-testid="stFileUploaderDropzone"] button::after { visibility: visible; position: absolute; inset: 0;'
        " display: flex; align-items: center; justify-content: center; border: 1px solid rgba(49, 51, 63, 0.2);"
        f' border-radius: 0.5rem; content: "{t("data.upload_button")}"; }}'
        "</style>"
    )


def record_view(obj: str, row_count: int, detail: dict | None = None) -> None:
    """Trace a view of patient-level rows in the access log (who saw what, how many)."""
    access_log.record(state.con(), actor(), "view", obj, row_count=row_count, detail=detail)


def page_window(total: int, key: str, page_size: int = 50) -> tuple[int, int]:
    """A pager for long tables: returns ``(offset, limit)`` for the chosen page."""
    pages = max(1, -(-total // page_size))
    page = 1
    if pages > 1:
        page = int(
            st.number_input(t("paging.label"), min_value=1, max_value=pages, value=1, step=1, key=key)
        )
    offset = (page - 1) * page_size
    if total:
        st.caption(t("paging.caption", first=offset + 1, last=min(offset + page_size, total), total=total))
    return offset, page_size


def export_button(
    frame: pd.DataFrame | Callable[[duckdb.DuckDBPyConnection], pd.DataFrame],
    name: str,
    *,
    key: str,
    aggregate: bool = False,
    rows: int | None = None,
) -> None:
    """Download ``frame`` through the engine's export: pseudonymised by default, recorded.

    The CSV is built only when the user clicks (a deferred download), so the access log
    records real downloads, not page renders. Streamlit's own table download is disabled
    (``client.disableDataExport``), so this is the only way out for rows. ``frame`` may be a
    function of a warehouse cursor, called only on download: the whole of a paged table (say
    the filtered review queue) is then read when someone asks for it, not on every render;
    ``rows`` is its row count for the button's label.
    """
    who = actor()
    if not aggregate and not allowed(who, Permission.EXPORT_PSEUDONYMISED):
        return
    with st.popover(t("export.button"), icon=":material/download:"):
        dialect = st.radio(
            t("export.dialect"), list(exports.DIALECTS), key=f"{key}_dialect", horizontal=True,
            format_func=lambda d: t(f"export.dialect.{d}"),
        )
        identified = False
        if not aggregate and allowed(who, Permission.EXPORT_IDENTIFIED):
            identified = st.checkbox(t("export.identified"), key=f"{key}_identified", help=t("export.identified_help"))
        elif not aggregate:
            st.caption(t("export.pseudonymised"))
        root = state.root_connection()
        snapshot = frame if callable(frame) else frame.copy()
        recheck = auth.deferred_guard()

        def build() -> bytes:
            # Streamlit runs this on the click, without rerunning the page: the session, the
            # account and its role are checked again now (a deactivated or idle user gets nothing)
            current = recheck()
            cursor = root.cursor()
            try:
                table = snapshot(cursor) if callable(snapshot) else snapshot
                return exports.export_frame(
                    cursor, current, name, table, dialect, identified, aggregate=aggregate
                )
            finally:
                cursor.close()

        st.download_button(
            t("export.download", rows=len(frame) if rows is None else rows), data=build, mime="text/csv",
            file_name=exports.export_filename(name, dialect), key=f"{key}_download",
            icon=":material/file_download:", on_click="ignore",
        )
