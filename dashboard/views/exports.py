"""Exports: every warehouse table as CSV, pseudonymised by default, each download recorded."""

from __future__ import annotations

import streamlit as st

from analytics import exports
from analytics.access.roles import Permission
from dashboard import auth, state
from dashboard.components import actor, can
from dashboard.i18n import message_text, t

me = actor()
st.title(t("nav.exports"))
con = state.con()
st.caption(t("exports.intro"))

tables = exports.exportable_tables(con, me)  # what this role may export, decided by the engine
if not can(Permission.EXPORT_PSEUDONYMISED):
    st.info(t("exports.viewer"))

table = st.selectbox(t("exports.table"), tables, key="exports_table",
                     format_func=lambda n: f"{t('table.' + n)} ({n})" if t("table." + n) != "table." + n else n)
count = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - allow-listed name
columns = [r[0] for r in con.execute(
    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
    [table]).fetchall()]
st.markdown(t("exports.summary", rows=f"{count:,}".replace(",", " "), columns=", ".join(columns)))

dialect = st.radio(t("export.dialect"), list(exports.DIALECTS), key="exports_dialect", horizontal=True,
                   format_func=lambda d: t(f"export.dialect.{d}"))
aggregate = table in exports.AGGREGATE_TABLES
identified = False
if aggregate:
    st.caption(t("exports.aggregate"))
elif can(Permission.EXPORT_IDENTIFIED):
    identified = st.checkbox(t("export.identified"), key="exports_identified", help=t("export.identified_help"))
else:
    st.caption(t("export.pseudonymised"))

reason = ""
if table in exports.REASON_TABLES:  # one clinician's time: within the purpose, with a reason, logged
    st.caption(t("exports.clinician_purpose"))
    reason = st.text_input(t("exports.reason"), key="exports_reason").strip()

root = state.root_connection()
recheck = auth.deferred_guard()


@st.cache_data(show_spinner=False, max_entries=32)
def _k_refusal(_con, version: str, role: str, table: str) -> str | None:
    """Why the pseudonymised export would be refused for k (engine's English), kept while the
    data version holds: the plan reads the table's quasi-identifiers (~0.1 s on the demo)."""
    return exports.k_refusal(_con, me, table)


refusal = None if identified else _k_refusal(con, f"{state.db_path()}|{state.data_version(con)}", me.role, table)
if refusal:  # said here, in French, rather than as a download that fails
    st.error(message_text(refusal))


def build() -> bytes:
    current = recheck()  # run on the click, not with the page: session, account and role checked now
    cursor = root.cursor()
    try:
        return exports.export_table(cursor, current, table, dialect, identified, reason=reason or None).data
    finally:
        cursor.close()


st.download_button(
    t("export.download", rows=count), data=build, mime="text/csv", type="primary",
    file_name=exports.export_filename(table, dialect), key="exports_download",
    icon=":material/file_download:", on_click="ignore",
    disabled=refusal is not None or (table in exports.REASON_TABLES and not reason),
)
