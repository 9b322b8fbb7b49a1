"""Duplicates: review queue, side-by-side comparison, waterfall, decisions; search; documents."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import documents, identity
from analytics.access.roles import Permission
from dashboard import charts, state
from dashboard.components import (
    actor,
    can,
    export_button,
    guarded,
    page_window,
    record_view,
)
from dashboard.i18n import t

QUEUE_CAP = 1000
DECISIONS = ("same", "not_same", "unsure")
SHORTCUTS = {"same": "1", "not_same": "2", "unsure": "3"}

me = actor()
st.title(t("nav.duplicates"))
con = state.con()
may_review = can(Permission.REVIEW_PAIRS)


@st.cache_data(show_spinner=False, max_entries=32)
def _queue(_con, version: str, username: str) -> pd.DataFrame:
    """The pending pairs (the engine records the view once per user and data change), with
    each pair's service (where the patients' documents were written) and record age, for the
    filters; both come from the warehouse as stored, one query each for the whole queue."""
    queue = identity.review_queue(_con, me, limit=QUEUE_CAP)
    if queue.empty:
        return queue.assign(service=pd.Series(dtype="string"), newest_record=pd.Series(dtype="datetime64[us, UTC]"))
    ids = sorted(set(queue["patient_id_1"]) | set(queue["patient_id_2"]))
    facts = _con.execute(
        """
        SELECT p.patient_id, p.created_at,
               (SELECT mode(d.service) FROM documents d WHERE d.patient_id = p.patient_id) AS service
        FROM patients p WHERE p.patient_id IN (SELECT unnest($ids))
        """,
        {"ids": ids},
    ).df().set_index("patient_id")
    service_1 = queue["patient_id_1"].map(facts["service"])
    service_2 = queue["patient_id_2"].map(facts["service"])
    created_1 = queue["patient_id_1"].map(facts["created_at"])
    created_2 = queue["patient_id_2"].map(facts["created_at"])
    return queue.assign(
        service=service_1.fillna(service_2),
        newest_record=pd.concat([created_1, created_2], axis=1).max(axis=1),
    )


def _decide(pairs: list[tuple[str, str]], decision: str) -> None:
    for id1, id2 in pairs:
        identity.record_review(con, me, id1, id2, decision)
    st.session_state["dup_count"] = st.session_state.get("dup_count", 0) + len(pairs)
    if decision == "unsure":  # unsure pairs stay in the queue: move past them in this session
        skipped = st.session_state.setdefault("dup_skipped", set())
        skipped.update(pairs)
    st.session_state["dup_flash"] = t("dup.recorded", n=len(pairs), decision=t(f"dup.decision.{decision}"))


def _comparison(explain: pd.DataFrame) -> None:
    fields = explain[~explain["field"].isin(["prior", "total"])]
    table = pd.DataFrame({
        t("dup.field"): [t(f"dup.field.{f}") for f in fields["field"]],
        t("dup.left"): fields["left"].astype("string").fillna("—"),
        t("dup.right"): fields["right"].astype("string").fillna("—"),
        t("dup.level"): [t(f"dup.level.{lv}") for lv in fields["level"]],
        t("dup.weight"): fields["weight"],
    })
    # highlight what differs; a trait absent on both sides is not a difference
    differs = [lv != "exact" and str(a) != str(b)
               for lv, a, b in zip(fields["level"], fields["left"], fields["right"], strict=True)]

    def highlight(row: pd.Series) -> list[str]:
        style = "background-color: #fde2c8" if differs[row.name] else ""
        return [style if c in (t("dup.left"), t("dup.right")) else "" for c in row.index]

    st.dataframe(
        table.reset_index(drop=True).style.apply(highlight, axis=1).format({t("dup.weight"): "{:+.2f}"}),
        hide_index=True,
    )


def _review(view: pd.DataFrame) -> None:
    """The page of pairs, the comparison of the current pair and the decision buttons."""
    offset, limit = page_window(len(view), key="dup_page", page_size=25)
    window = view.iloc[offset : offset + limit].reset_index(drop=True)
    window["rule"] = window["rule"].map(lambda rule: t(f"dup.rule.{rule}") if isinstance(rule, str) else rule)
    columns = ["score", "patient_id_1", "birth_name_1", "first_names_1", "birth_date_1",
               "patient_id_2", "birth_name_2", "first_names_2", "birth_date_2", "service",
               "newest_record", "rule"]
    picked = st.dataframe(
        window[columns], hide_index=True, key="dup_table", on_select="rerun",
        selection_mode="multi-row",
        column_config={
            "score": st.column_config.ProgressColumn(t("dup.score"), min_value=0.0, max_value=1.0, format="%.2f"),
            "patient_id_1": t("dup.id_1"), "birth_name_1": t("dup.name_1"),
            "first_names_1": t("dup.first_1"),
            "birth_date_1": st.column_config.DateColumn(t("dup.birth_1"), format="DD/MM/YYYY"),
            "patient_id_2": t("dup.id_2"), "birth_name_2": t("dup.name_2"),
            "first_names_2": t("dup.first_2"),
            "birth_date_2": st.column_config.DateColumn(t("dup.birth_2"), format="DD/MM/YYYY"),
            "rule": t("dup.rule"), "service": t("dup.service"),
            "newest_record": st.column_config.DatetimeColumn(t("dup.newest"), format="DD/MM/YYYY"),
        },
    )
    rows = list(picked.selection.rows) if picked is not None and hasattr(picked, "selection") else []
    chosen = window.iloc[rows] if rows else window.iloc[[0]]
    pairs = list(zip(chosen["patient_id_1"], chosen["patient_id_2"], strict=True))
    current = pairs[0]
    st.subheader(t("dup.compare", a=current[0], b=current[1]))
    if len(pairs) > 1:
        st.caption(t("dup.selection", n=len(pairs)))
    explain = identity.explain_pair(con, me, *current)
    left, right = st.columns([3, 2])
    with left:
        _comparison(explain)
    with right:
        steps = explain[explain["field"] != "total"].copy()
        steps["field"] = [t("chart.prior") if f == "prior" else t(f"dup.field.{f}") for f in steps["field"]]
        title = t("dup.waterfall", score=f"{chosen['score'].iloc[0]:.2f}")
        st.plotly_chart(charts.waterfall(steps, title=title), key="dup_waterfall")
    if may_review:
        st.markdown(t("dup.decide", n=len(pairs)))
        cols = st.columns(3)
        for col, decision in zip(cols, DECISIONS, strict=True):
            if col.button(
                t(f"dup.button.{decision}"), key=f"dup_{decision}", shortcut=SHORTCUTS[decision],
                type="primary" if decision == "same" else "secondary", width="stretch",
                help=t("dup.shortcut", key=SHORTCUTS[decision]),
            ):
                _decide(pairs, decision)
                st.rerun()
    else:
        st.caption(t("dup.review_denied"))
    export_button(view, "paires_a_examiner", key="dup_export")


tab_queue, tab_search, tab_docs = st.tabs([t("dup.tab.queue"), t("dup.tab.search"), t("dup.tab.documents")])

# --- review queue ------------------------------------------------------------------------
with tab_queue:
    if message := st.session_state.pop("dup_flash", None):
        st.toast(message, icon=":material/check:")
    with guarded():
        queue = _queue(con, state.data_version(con), me.username)
        skipped = st.session_state.get("dup_skipped", set())
        if skipped:
            keep = [(a, b) not in skipped for a, b in zip(queue["patient_id_1"], queue["patient_id_2"], strict=True)]
            queue = queue[keep]
        m = st.columns(3)
        m[0].metric(t("dup.pending"), f"{len(queue)}{'+' if len(queue) >= QUEUE_CAP else ''}")
        m[1].metric(t("dup.decided_session"), st.session_state.get("dup_count", 0))
        m[2].metric(t("dup.skipped"), len(skipped))
        if queue.empty:
            st.info(t("dup.queue_empty"))
            if may_review and st.button(t("dup.run_detection"), key="dup_run", icon=":material/play_arrow:"):
                with st.status(t("dup.running"), expanded=False) as status:
                    summary = identity.find_duplicates(con, actor=me)
                    status.update(label=t("dup.ran", pairs=summary.candidate_pairs, reviews=summary.reviews,
                                          matches=summary.matches), state="complete")
                st.rerun()
        else:
            c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 2])
            low, high = c1.slider(t("dup.score_range"), 0.0, 1.0, (0.0, 1.0), step=0.05, key="dup_score")
            services = sorted(queue["service"].dropna().unique())
            service = c2.multiselect(t("dup.service_filter"), services, key="dup_service", placeholder=t("dup.all"))
            age = c3.selectbox(t("dup.age_filter"), [None, 7, 30, 365], key="dup_age",
                               format_func=lambda d: t("dup.age.any") if d is None else t("dup.age.days", days=d))
            statuses = sorted(set(queue["status_1"].dropna()) | set(queue["status_2"].dropna()))
            status = c4.multiselect(t("dup.status_filter"), statuses, key="dup_status", placeholder=t("dup.all"))
            order = c5.selectbox(t("dup.sort"), ["score_desc", "score_asc", "newest", "name"], key="dup_sort",
                                 format_func=lambda o: t(f"dup.sort.{o}"))
            view = queue[(queue["score"] >= low) & (queue["score"] <= high)]
            if service:
                view = view[view["service"].isin(service)]
            if age is not None:
                since = pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=age)
                view = view[pd.to_datetime(view["newest_record"], utc=True) >= since]
            if status:
                view = view[view["status_1"].isin(status) | view["status_2"].isin(status)]
            view = {
                "score_desc": view.sort_values("score", ascending=False),
                "score_asc": view.sort_values("score"),
                "newest": view.sort_values("newest_record", ascending=False),
                "name": view.sort_values(["birth_name_1", "first_names_1"]),
            }[order].reset_index(drop=True)
            if view.empty:
                st.info(t("dup.filter_empty"))
            else:
                _review(view)

# --- search before create ----------------------------------------------------------------
with tab_search:
    st.caption(t("dup.search_intro"))
    with st.form("dup_search"):
        c1, c2, c3, c4 = st.columns(4)
        name = c1.text_input(t("dup.field.birth_name"), key="dup_s_name")
        first = c2.text_input(t("dup.field.first_names"), key="dup_s_first")
        born = c3.text_input(t("dup.field.birth_date"), placeholder="jj/mm/aaaa", key="dup_s_born")
        sex = c4.selectbox(t("dup.field.sex"), ["", "F", "M"], key="dup_s_sex")
        searched = st.form_submit_button(t("dup.search"), type="primary", icon=":material/search:")
    if searched:
        with guarded():
            found = identity.search_identities(
                con, me, birth_name=name or None, first_names=first or None,
                birth_date=born or None, sex=sex or None, limit=10,
            )
            if found.empty:
                st.success(t("dup.search_none"))
            else:
                st.warning(t("dup.search_found", n=len(found)))
                st.dataframe(found, hide_index=True)
                export_button(found, "recherche_identites", key="dup_export_search")

# --- duplicate documents -----------------------------------------------------------------
with tab_docs:
    with guarded():
        counts = documents.duplicate_counts(con, me)
        cols = st.columns(len(counts))
        for col, (_, row) in zip(cols, counts.iterrows(), strict=True):
            col.metric(t(f"dup.kind.{row['kind']}"), int(row["pairs"]))
        kind = st.segmented_control(t("dup.kind"), list(documents.DUPLICATE_KINDS), key="dup_kind",
                                    format_func=lambda k: t(f"dup.kind.{k}"))
        pairs_df = documents.duplicate_documents(con, me, kind=kind, limit=1000)
        if pairs_df.empty:
            st.info(t("dup.no_documents"))
        else:
            offset, limit = page_window(len(pairs_df), key="dup_docs_page")
            shown = pairs_df.iloc[offset : offset + limit]
            st.dataframe(shown, hide_index=True, column_config={
                "kind": t("dup.kind"), "score": st.column_config.NumberColumn(t("dup.score"), format="%.2f"),
                "reason": t("dup.reason"), "patient_id": t("dup.patient"),
                "keep_document_id": t("dup.keep"), "run_id": None,
                **{f"{col}_{n}": t(f"dup.doc.{col}", n=n) for n in (1, 2)
                   for col in ("document_id", "document_type", "title", "status")},
                **{f"created_at_{n}": st.column_config.DatetimeColumn(t("dup.doc.created_at", n=n),
                                                                      format="DD/MM/YYYY HH:mm")
                   for n in (1, 2)},
            })
            record_view("document_duplicates", len(shown), {"kind": kind})
            export_button(pairs_df, "documents_en_double", key="dup_docs_export")
