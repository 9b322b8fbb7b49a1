"""Overview: the few numbers a DSI manager reports upward, and what is loaded."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import actor
from dashboard.i18n import t

CORE_TABLES = ("patients", "documents", "audit_events", "staff", "schedules")


@st.cache_data(show_spinner=False, max_entries=8)
def loaded_tables(_con, version: str) -> pd.DataFrame:
    """Row counts of the core tables and the time of their last successful import."""
    rows = []
    for table in CORE_TABLES:
        count = _con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - fixed names
        last = _con.execute(
            "SELECT max(finished_at) FROM imports WHERE table_name = ? AND status = 'loaded'", [table]
        ).fetchone()[0]
        rows.append({"table": table, "rows": count, "last_import": last})
    return pd.DataFrame(rows)


actor()
st.title(t("overview.title"))
con = state.con()
tables = loaded_tables(con, state.data_version(con))

st.subheader(t("overview.loaded"))
if int(tables["rows"].sum()) == 0:
    st.info(t("overview.no_data"))
shown = pd.DataFrame(
    {
        t("overview.table"): [t(f"table.{name}") for name in tables["table"]],
        t("overview.rows"): tables["rows"],
        t("overview.last_import"): [
            value.strftime("%d/%m/%Y %H:%M") if pd.notna(value) else t("overview.never")
            for value in tables["last_import"]
        ],
    }
)
st.dataframe(shown, hide_index=True, width="content")
