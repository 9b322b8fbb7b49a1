"""Data: import files (upload or the server's import folder), validation report, what is loaded."""

from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st

from analytics import importing
from analytics.access.roles import Permission, require
from analytics.errors import FileRefused, HygieError
from dashboard import state
from dashboard.components import (
    actor,
    aggregate_safe,
    can,
    export_button,
    french_uploader,
    guarded,
    page_window,
)
from dashboard.i18n import error_text, message_text, t
from dashboard.uploads import ALLOWED_TYPES, import_dir, max_upload_mb, saved_upload, server_file

TABLES = ("patients", "documents", "audit_events", "staff", "schedules")


me = actor()
st.title(t("nav.data"))
con = state.con()

# --- import ------------------------------------------------------------------------------
if can(Permission.IMPORT_DATA):
    st.subheader(t("data.import"))
    folder = import_dir()
    sources = ["upload"] + (["server"] if folder else [])
    with st.form("data_import", clear_on_submit=True):
        c1, c2 = st.columns(2)
        table = c1.selectbox(t("data.table"), TABLES, format_func=lambda n: t(f"table.{n}"), key="data_table")
        source = c2.text_input(t("data.source"), value="default", help=t("data.source_help"), key="data_source")
        how = st.radio(t("data.how"), sources, horizontal=True, key="data_how",
                       format_func=lambda s: t(f"data.how.{s}"))
        # type checked by saved_upload (French message); Streamlit's own check answers in English,
        # and for a forged file name it fails before this script runs
        upload = st.file_uploader(
            t("data.file", mb=max_upload_mb()), type=None, key="data_upload",
            max_upload_size=max_upload_mb(),
        )
        french_uploader()
        chosen_file = None
        if folder:
            files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lstrip(".").lower() in ALLOWED_TYPES)
            chosen_file = st.selectbox(t("data.server_file", folder=folder), files, index=None,
                                       key="data_server_file", placeholder=t("data.no_file"))
        submitted = st.form_submit_button(t("data.run_import"), type="primary", icon=":material/upload:")
    if submitted:
        report = None
        with guarded():
            require(me, Permission.IMPORT_DATA)  # the importer takes a name, not an Actor
            with contextlib.ExitStack() as stack:
                if how == "server" and folder:
                    path = server_file(folder, chosen_file or "")
                    if path is None:
                        raise HygieError(t("data.pick_file") if not chosen_file else t("data.bad_path"))
                else:
                    if upload is None:
                        raise HygieError(t("data.pick_file"))
                    if upload.size > max_upload_mb() * 1024 * 1024:
                        raise HygieError(t("data.too_big", mb=max_upload_mb()))
                    path = stack.enter_context(saved_upload(upload.name, upload.getbuffer()))
                with st.spinner(t("data.importing")):
                    try:
                        report = importing.import_file(con, table, path, source=source.strip() or "default",
                                                       actor=me)
                    except FileRefused as exc:
                        report = exc.report
                        st.error(t("data.refused", message=error_text(exc)))
        if report is not None:
            st.session_state["data_report"] = report
            if report.findings_count:  # the findings list below opens on this import
                st.session_state["data_findings_pick"] = report.import_id
                st.session_state.pop("data_imports_page", None)
    report = st.session_state.get("data_report")
    if report is not None and report.status == "refused":
        # nothing was read into the warehouse: no counts to show, only why
        st.markdown(t("data.report_title", table=t(f"table.{report.table}"), file=Path(report.file).name))
        st.caption(t("data.refused_no_counts"))
    elif report is not None:
        st.markdown(t("data.report_title", table=t(f"table.{report.table}"), file=Path(report.file).name))
        m = st.columns(5)
        m[0].metric(t("data.rows_in_file"), report.rows_in_file)
        m[1].metric(t("data.inserted"), report.rows_inserted)
        m[2].metric(t("data.updated"), report.rows_updated)
        m[3].metric(t("data.skipped"), getattr(report, "rows_skipped", 0))
        m[4].metric(t("data.findings"), report.findings_count)
        st.caption(t("data.detected", format=report.format, encoding=report.encoding or "—",
                     delimiter=report.delimiter or "—"))
        for notice in report.notices:
            st.caption(message_text(notice))
        if report.status == "loaded":
            st.success(t("data.loaded"))

# --- what is loaded and when --------------------------------------------------------------
st.subheader(t("data.imports"))
total = importing.import_count(con, me)
if not total:
    st.info(t("overview.no_data"))
else:
    offset, limit = page_window(total, key="data_imports_page", page_size=20)
    frame = importing.imports_page(con, me, limit, offset)
    if not can(Permission.VIEW_PATIENT_DATA):  # a refusal may quote a patient id or a server path
        frame["message"] = [aggregate_safe(m) for m in frame["message"]]
    shown = frame.drop(columns=["import_id"])
    shown["table_name"] = [t(f"table.{name}") for name in shown["table_name"]]
    shown["status"] = [t(f"data.status.{s}") for s in shown["status"]]
    shown["message"] = [message_text(m) if isinstance(m, str) else "" for m in shown["message"]]
    st.dataframe(shown, hide_index=True, column_config={
        "started_at": st.column_config.DatetimeColumn(t("data.col.when"), format="DD/MM/YYYY HH:mm"),
        "table_name": t("data.table"), "file_name": t("data.col.file"), "format": t("data.col.format"),
        "encoding": t("data.col.encoding"), "status": t("data.col.status"),
        "rows_in_file": t("data.rows_in_file"), "rows_inserted": t("data.inserted"),
        "rows_updated": t("data.updated"), "findings": t("data.findings"), "actor": t("data.col.actor"),
        "message": t("data.col.message"),
    })
    export_button(frame, "imports", key="data_export_imports", aggregate=True)

    # --- validation report of one import (raw values are patient-level) -------------------
    with_findings = frame[frame["findings"].fillna(0) > 0]
    if not with_findings.empty and can(Permission.VIEW_PATIENT_DATA):
        st.subheader(t("data.findings_title"))
        labels = {row.import_id: f"{row.file_name} — {t('table.' + row.table_name)} ({row.findings})"
                  for row in with_findings.itertuples()}
        if st.session_state.get("data_findings_pick") not in labels:
            st.session_state.pop("data_findings_pick", None)  # an import of another page: the newest
        chosen = st.selectbox(t("data.pick_import"), list(labels), key="data_findings_pick", format_func=labels.get)
        count = importing.import_findings_count(con, me, chosen)
        f_offset, f_limit = page_window(count, key="data_findings_page")
        findings = importing.import_findings(con, me, chosen, f_limit, f_offset)
        shown_findings = findings.assign(problem=[message_text(p) for p in findings["problem"]])
        st.dataframe(shown_findings, hide_index=True, column_config={
            "line": t("data.col.line"), "column_name": t("data.col.column"), "record_key": t("data.col.key"),
            "raw_value": t("data.col.raw"), "problem": t("data.col.problem"),
        })
        export_button(findings, "data_quality_findings", key="data_export_findings")
