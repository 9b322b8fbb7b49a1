"""Hygie dashboard entry point: only a router (``st.navigation``) with an error boundary.

Run with ``hygie serve`` (it sets ``HYGIE_DB`` and the hardened server flags).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

# ``streamlit run dashboard/app.py`` puts dashboard/ on sys.path, not the repository root.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from analytics.access.roles import Actor, Permission, allowed  # noqa: E402
from analytics.errors import HygieError  # noqa: E402
from dashboard import auth, state  # noqa: E402
from dashboard.i18n import error_text, t  # noqa: E402

log = logging.getLogger("hygie.dashboard")
# Pages live in views/, not pages/: with a pages/ folder beside the main script Streamlit
# falls back to its v1 multipage mode on a fresh process (and in AppTest on every rerun) and
# runs a requested page file directly, skipping this router and its login check.
PAGES = Path(__file__).resolve().parent / "views"
#: Served by Streamlit itself: a ``:material/...:`` page icon would make every browser fetch the
#: favicon from fonts.gstatic.com, and no request may leave the hospital's network.
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"

# (file, title id, icon, permission needed to see the page at all)
_LAYOUT: list[tuple[str, list[tuple[str, str, str, Permission]]]] = [
    (
        "nav.section.pilot",
        [
            ("overview.py", "nav.overview", ":material/dashboard:", Permission.VIEW_AGGREGATES),
            ("time_sinks.py", "nav.time_sinks", ":material/schedule:", Permission.VIEW_AGGREGATES),
        ],
    ),
    (
        "nav.section.work",
        [
            ("duplicates.py", "nav.duplicates", ":material/group:", Permission.VIEW_PATIENT_DATA),
            ("jobs.py", "nav.jobs", ":material/cleaning_services:", Permission.JOB_PREVIEW),
        ],
    ),
    (
        "nav.section.data",
        [
            ("data.py", "nav.data", ":material/upload_file:", Permission.VIEW_AGGREGATES),
            ("exports.py", "nav.exports", ":material/download:", Permission.VIEW_AGGREGATES),
            ("admin.py", "nav.admin", ":material/admin_panel_settings:", Permission.VIEW_ACCESS_LOG),
        ],
    ),
]


def _pages_for(actor: Actor) -> dict[str, list[st.Page]]:
    sections: dict[str, list[st.Page]] = {}
    for section, pages in _LAYOUT:
        visible = [
            st.Page(PAGES / file, title=t(title), icon=icon, default=file == "overview.py")
            for file, title, icon, permission in pages
            if allowed(actor, permission)
        ]
        if visible:
            sections[t(section)] = visible
    return sections


def _sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(t("login.signed_in_as", user=actor.username, role=t(f"role.{actor.role}")))
        if st.button(t("logout.button"), key="logout", icon=":material/logout:"):
            auth.logout()
            st.rerun()


def main() -> None:
    st.set_page_config(page_title=t("app.title"), page_icon=str(FAVICON), layout="wide")
    # Streamlit's own table download would bypass pseudonymisation and the access log.
    st.set_option("client.disableDataExport", True)
    try:
        path = state.db_path()
    except HygieError:
        st.error(t("error.no_db"))
        return
    try:
        with state.run_cursor():
            state.start_worker(path)
            actor = auth.current_actor()
            if actor is None:
                st.navigation([st.Page(auth.login_page, title=t("nav.login"))], position="hidden").run()
                return
            _sidebar(actor)
            # pages may link only to pages this role has (st.page_link to others would fail)
            st.session_state["hygie_pages"] = {
                file for _, pages in _LAYOUT for file, _, _, permission in pages if allowed(actor, permission)
            }
            st.navigation(_pages_for(actor)).run()
    except HygieError as exc:  # messages written for users: they name the file, row, field
        st.error(error_text(exc))
    except Exception:  # never show internals to users; the server log has the traceback
        log.exception("unexpected error while rendering a page")
        st.error(t("error.generic"))


main()
