"""Duplicates: review queue, side-by-side comparison, waterfall, decisions; search; documents."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb
import pandas as pd
import streamlit as st

from analytics import documents, identity
from analytics.access.roles import Permission
from analytics.config import TIMEZONE
from analytics.identity.decide import auto_merge_blockers
from analytics.identity.explain import explain_pairs
from analytics.identity.reviews import SAME_PENDING
from dashboard import charts, state
from dashboard.components import (
    actor,
    can,
    export_button,
    guarded,
    page_window,
)
from dashboard.i18n import fr_number, t
from dashboard.task_button import task_button

PAGE_SIZE = 25
EXPLAIN_AHEAD = 4  # pairs explained with the current one (a page of 25 at once cost ~3x one)
DOCS_PAGE_SIZE = 50
COLLISIONS_SHOWN = 50  # records shown with their evidence (the export has them all)
DECISIONS = ("same", "not_same", "unsure")
SHORTCUTS = {"same": "1", "not_same": "2", "unsure": "3"}

me = actor()
st.title(t("nav.duplicates"))
task_button("detect-duplicates", t("task.detect.button"), t("task.detect.running"), t("task.detect.help"))
con = state.con()
may_review = can(Permission.REVIEW_PAIRS)


@st.cache_data(show_spinner=False, max_entries=4)
def _base(_con, queue_version: str, username: str) -> pd.DataFrame:
    """The queue's pairs with both identities and the filters' facts (~0.3 s at 1M patients),
    kept until an import, a job or a matching run changes them; reviews are applied per page."""
    return identity.queue_base(_con, me)


@st.cache_data(show_spinner=False, max_entries=64)
def _page(_con, version: str, queue_version: str, username: str, filters: tuple, order: str, offset: int,
          skip: tuple) -> identity.QueuePage:
    """One page of the queue: keyed on the data version, so a decision (a new review) is
    applied on the very next run; the engine records the view once per key."""
    low, high, services, days, statuses = filters
    return identity.review_page(
        _con, me, filters=identity.QueueFilters(low, high, services, days, statuses), order=order,
        limit=PAGE_SIZE, offset=offset, skip=skip, base=_base(_con, queue_version, username))


@st.cache_data(show_spinner=False, max_entries=8)
def _doc_counts(_con, version: str, username: str) -> pd.DataFrame:
    return documents.duplicate_counts(_con, me)


@st.cache_data(show_spinner=False, max_entries=32)
def _doc_page(_con, version: str, username: str, kind: str | None, offset: int) -> pd.DataFrame:
    return documents.duplicate_documents(_con, me, kind=kind, limit=DOCS_PAGE_SIZE, offset=offset)


def _offset(key: str, total: int | None, page_size: int) -> int:
    """The chosen page's first row, read before the pager is drawn (the engine needs it to
    fetch the page); a page number beyond the last page (filters narrowed) starts again at 1."""
    page = int(st.session_state.get(key, 1) or 1)
    if total is not None and (page - 1) * page_size >= max(total, 1):
        st.session_state.pop(key, None)
        page = 1
    return (page - 1) * page_size


def _decide(pairs: list[tuple[str, str]], decision: str) -> None:
    """Record ``decision`` on exactly ``pairs`` (the displayed pair, or a confirmed selection)."""
    pending = 0
    for id1, id2 in pairs:
        stored = identity.record_review(con, me, id1, id2, decision)
        pending += stored == SAME_PENDING
    st.session_state["dup_count"] = st.session_state.get("dup_count", 0) + len(pairs)
    if decision == "unsure":  # unsure pairs stay in the queue: move past them in this session
        skipped = st.session_state.setdefault("dup_skipped", set())
        skipped.update(pairs)
    message = t("dup.recorded", n=len(pairs), decision=t(f"dup.decision.{decision}"))
    if pending:
        message += " " + t("dup.four_eyes_pending", n=pending)
    st.session_state["dup_flash"] = message


def _digest(pairs: list[tuple[str, str]]) -> str:
    """A short key naming exactly these pairs: a widget keyed on it belongs to them."""
    return hashlib.sha1("|".join(f"{a}/{b}" for a, b in pairs).encode()).hexdigest()[:12]  # noqa: S324 - a key


def _traits(fields: list[str]) -> str:
    """Field names as the comparison names them, in French: « Lieu de naissance, INS »."""
    return ", ".join(t(f"dup.field.{f}") for f in fields)


def _held_label(held: object) -> str | None:
    """The queue's reason for a pair decided « même personne » by its score that no automatic merge
    may take (queue.py ``held_by``: the strict traits that differ beyond formatting)."""
    if not isinstance(held, str):
        return None
    return t("dup.rule.held", traits=_traits(held.split())) if held else t("dup.rule.held_unknown")


def _comparison(explain: pd.DataFrame, left: str | None = None, right: str | None = None) -> None:
    """The side-by-side of one pair (or of a typed identity and a record): trait, both values,
    whether they differ, the comparison level and its weight."""
    fields = explain[~explain["field"].isin(["prior", "total"])]
    # what differs is flagged in its own column (a pandas Styler costs ~0.2 s a render, and
    # ~1 s the first time in a process); a trait absent on either side is not a difference
    differs = [lv not in ("exact", "prefix", "missing") and str(a) != str(b)
               for lv, a, b in zip(fields["level"], fields["left"], fields["right"], strict=True)]
    table = pd.DataFrame({
        t("dup.field"): [t(f"dup.field.{f}") for f in fields["field"]],
        left or t("dup.left"): fields["left"].astype("string").fillna("—"),
        right or t("dup.right"): fields["right"].astype("string").fillna("—"),
        t("dup.differs"): differs,
        t("dup.level"): [t(f"dup.level.{lv}") for lv in fields["level"]],
        t("dup.weight"): [fr_number(w, sign=True) for w in fields["weight"]],  # decimal comma
    })
    st.dataframe(table.reset_index(drop=True), hide_index=True, column_config={
        t("dup.differs"): st.column_config.CheckboxColumn(t("dup.differs"), help=t("dup.differs_help")),
    })


def _explanation(pairs: list[tuple[str, str]], current: tuple[str, str], queue_version: str) -> pd.DataFrame:
    """The current pair's explanation. It is computed with the next pairs of the page in one
    engine call (about the cost of one) and kept in the session while the queue version holds:
    after a decision the next pair is already explained. (A pair still waiting has no
    same/not_same review, the only reviews that change an explanation.)"""
    store = st.session_state.get("dup_explained")
    if store is None or store["version"] != queue_version or len(store["frames"]) > 500:
        store = {"version": queue_version, "frames": {}}
        st.session_state["dup_explained"] = store
    frames = store["frames"]
    if current not in frames:
        ahead = [p for p in pairs[pairs.index(current) + 1 if current in pairs else 0:] if p not in frames]
        todo = [current, *ahead[:EXPLAIN_AHEAD]]
        frames.update(zip(todo, explain_pairs(con, me, todo), strict=True))
    return frames[current]


def _bulk(pairs: list[tuple[str, str]], chosen: pd.DataFrame) -> None:
    """One decision on several selected pairs: every pair is listed, and the user confirms
    the decision with its count before the button can act."""
    key = _digest(pairs)
    with st.container(border=True):
        st.markdown(t("dup.bulk_title", n=len(pairs)))
        st.dataframe(pd.DataFrame({
            t("dup.id_1"): chosen["patient_id_1"], t("dup.name_1"): chosen["birth_name_1"],
            t("dup.first_1"): chosen["first_names_1"], t("dup.id_2"): chosen["patient_id_2"],
            t("dup.name_2"): chosen["birth_name_2"], t("dup.first_2"): chosen["first_names_2"],
        }).reset_index(drop=True), hide_index=True, key=f"dup_bulk_list_{key}")
        decision = st.radio(t("dup.bulk_decision"), DECISIONS, key=f"dup_bulk_decision_{key}", horizontal=True,
                            format_func=lambda d: t(f"dup.button.{d}"))
        confirmed = st.checkbox(t("dup.bulk_confirm", n=len(pairs), decision=t(f"dup.decision.{decision}")),
                                key=f"dup_bulk_confirm_{key}_{decision}")
        if st.button(t("dup.bulk_apply", n=len(pairs)), key=f"dup_bulk_apply_{key}", disabled=not confirmed):
            _decide(pairs, decision)
            st.rerun()


def _review(page: identity.QueuePage, queue_version: str,
            whole_queue: Callable[[duckdb.DuckDBPyConnection], pd.DataFrame]) -> None:
    """The page of pairs, the comparison of the current pair and the decision buttons."""
    page_window(page.total, key="dup_page", page_size=PAGE_SIZE)
    window = page.rows.copy()
    page_pairs = list(zip(window["patient_id_1"], window["patient_id_2"], strict=True))
    window["rule"] = [t(f"dup.rule.{rule}") if isinstance(rule, str) else _held_label(held)
                      for rule, held in zip(window["rule"], window["held_by"], strict=True)]
    columns = ["score", "patient_id_1", "birth_name_1", "first_names_1", "birth_date_1",
               "patient_id_2", "birth_name_2", "first_names_2", "birth_date_2", "service",
               "newest_record", "rule"]
    picked = st.dataframe(
        # keyed on the page's pairs: a selection never outlives the rows it was made on (after a
        # decision the page changes, the selection is gone and the next pair is shown)
        window[columns].assign(score=[fr_number(s) for s in window["score"]]),  # 0,95: French decimal comma
        hide_index=True, key=f"dup_table_{_digest(page_pairs)}", on_select="rerun",
        selection_mode="multi-row",
        column_config={
            "score": t("dup.score"),
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
    rows = [r for r in (picked.selection.rows if picked is not None and hasattr(picked, "selection") else [])
            if r < len(window)]
    # The comparison shows one pair: the first selected row, else the first of the page. The
    # decision buttons act on that pair only, and are keyed on it: a click drawn for a pair that
    # has left the page (a second click before the page was redrawn) matches no button.
    shown = rows[0] if rows else 0
    current = page_pairs[shown]
    st.subheader(t("dup.compare", a=current[0], b=current[1]))
    row = window.iloc[shown]
    if isinstance(row.get("awaiting_second"), str):
        st.info(t("dup.four_eyes_confirm", reviewer=row["awaiting_second"]))
    explain = _explanation(page_pairs, current, queue_version)
    if explain.attrs.get("decision") == "match" and not explain.attrs.get("auto_merge") and not explain.attrs.get("rule"):
        held = auto_merge_blockers(dict(zip(explain["field"], explain["level"], strict=True)))
        st.info(t("dup.held_explained", traits=_traits(held)) if held else t("dup.rule.held_unknown"))
    left, right = st.columns([3, 2])
    with left:
        _comparison(explain)
    with right:
        steps = explain[explain["field"] != "total"].copy()
        steps["field"] = [t("chart.prior") if f == "prior" else t(f"dup.field.{f}") for f in steps["field"]]
        title = t("dup.waterfall", score=fr_number(row["score"]))
        st.plotly_chart(charts.waterfall(steps, title=title), key="dup_waterfall")
    if not may_review:
        st.caption(t("dup.review_denied"))
    else:
        pair_key = f"{current[0]}_{current[1]}"
        st.markdown(t("dup.decide", a=current[0], b=current[1]))
        cols = st.columns(3)
        for col, decision in zip(cols, DECISIONS, strict=True):
            if col.button(
                t(f"dup.button.{decision}"), key=f"dup_{decision}_{pair_key}", shortcut=SHORTCUTS[decision],
                type="primary" if decision == "same" else "secondary", width="stretch",
                help=t("dup.shortcut", key=SHORTCUTS[decision]),
            ):
                _decide([current], decision)
                st.rerun()
        if len(rows) > 1:
            _bulk([page_pairs[r] for r in rows], window.iloc[rows])
    # the whole filtered queue, read on download (newest_record is derived from created_at_1/2,
    # which the export keeps)
    export_button(whole_queue, "paires_a_examiner", key="dup_export", rows=page.total)


tab_queue, tab_search, tab_collisions, tab_docs = st.tabs(
    [t("dup.tab.queue"), t("dup.tab.search"), t("dup.tab.collisions"), t("dup.tab.documents")], key="dup_tab",
    on_change="rerun")
# the cached reads below are keyed on these versions; the warehouse path makes an entry belong to
# one warehouse (two copies of one file carry the same data version: the tests' fresh copies)
version = f"{state.db_path()}|{state.data_version(con)}"

# --- review queue ------------------------------------------------------------------------
with tab_queue:
    if message := st.session_state.pop("dup_flash", None):
        st.toast(message, icon=":material/check:")
    if tab_queue.open is not False:  # only the open tab's data is read
        with guarded():
            q_version = f"{state.db_path()}|{identity.queue_version(con)}"
            base = _base(con, q_version, me.username)
            skipped = st.session_state.get("dup_skipped", set())
            m = st.columns(3)
            c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 2])
            low, high = c1.slider(t("dup.score_range"), 0.0, 1.0, (0.0, 1.0), step=0.05, key="dup_score")
            service = c2.multiselect(t("dup.service_filter"), sorted(base["service"].dropna().unique()),
                                     key="dup_service", placeholder=t("dup.all"))
            age = c3.selectbox(t("dup.age_filter"), [None, 7, 30, 365], key="dup_age",
                               format_func=lambda d: t("dup.age.any") if d is None else t("dup.age.days", days=d))
            statuses = sorted(set(base["status_1"].dropna()) | set(base["status_2"].dropna()))
            status = c4.multiselect(t("dup.status_filter"), statuses, key="dup_status", placeholder=t("dup.all"))
            order = c5.selectbox(t("dup.sort"), list(identity.QUEUE_ORDERS), key="dup_sort",
                                 format_func=lambda o: t(f"dup.sort.{o}"))
            args = ((float(low), float(high), tuple(service), age, tuple(status)), order)
            skip = tuple(sorted(skipped))
            page = _page(con, version, q_version, me.username, *args, _offset("dup_page", None, PAGE_SIZE), skip)
            if page.rows.empty and page.total:  # the page number is past the filtered queue
                page = _page(con, version, q_version, me.username, *args,
                             _offset("dup_page", page.total, PAGE_SIZE), skip)
            m[0].metric(t("dup.pending"), page.pending)
            m[1].metric(t("dup.decided_session"), st.session_state.get("dup_count", 0))
            m[2].metric(t("dup.skipped"), len(skipped))
            if not page.pending:
                st.info(t("dup.queue_empty"))
                if may_review and st.button(t("dup.run_detection"), key="dup_run", icon=":material/play_arrow:"):
                    with st.status(t("dup.running"), expanded=False) as status_box:
                        summary = identity.find_duplicates(con, actor=me)
                        status_box.update(label=t("dup.ran", pairs=summary.candidate_pairs, reviews=summary.reviews,
                                                  matches=summary.matches, held=summary.held), state="complete")
                    st.rerun()
            elif page.rows.empty:
                st.info(t("dup.filter_empty"))
            else:
                filters = identity.QueueFilters(float(low), float(high), tuple(service), age, tuple(status))

                def whole_queue(cursor, filters=filters, order=order, skip=skip, total=page.total):
                    return identity.review_page(
                        cursor, me, filters=filters, order=order, limit=max(total, 1), skip=skip,
                    ).rows.drop(columns=["newest_record"])

                _review(page, q_version, whole_queue)

# --- search before create ----------------------------------------------------------------
def _search_summary(found: pd.DataFrame) -> pd.DataFrame:
    """The candidates as an admission agent reads them: French headers, dates as dd/mm/yyyy."""
    return pd.DataFrame({
        t("dup.search.rank"): range(1, len(found) + 1),
        t("dup.patient"): found["patient_id"],
        t("dup.field.birth_name"): found["birth_name"].fillna("—"),
        t("dup.search.used_name"): found["used_name"].fillna("—"),
        t("dup.field.first_names"): found["first_names"].fillna("—"),
        t("dup.search.born"): [_date(d) for d in found["birth_date"]],
        t("dup.field.sex"): found["sex"].fillna("—"),
        t("dup.search.place"): found["birth_place_code"].fillna("—"),
        t("dup.score"): [fr_number(s) for s in found["score"]],
        t("dup.search.verdict"): [t(f"dup.search.decision.{d}") for d in found["decision"]],
    })


def _date(value: object) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%d/%m/%Y")


def _search_results(found: pd.DataFrame) -> None:
    if found.empty:
        st.success(t("dup.search_none"))
        return
    st.warning(t("dup.search_found", n=len(found)))
    st.dataframe(_search_summary(found), hide_index=True)
    st.caption(t("dup.search.why"))
    for rank, row in enumerate(found.itertuples(index=False), start=1):
        label = t("dup.search.card", rank=rank, name=row.birth_name or "—", first=row.first_names or "",
                  born=_date(row.birth_date), id=row.patient_id, score=fr_number(row.score),
                  verdict=t(f"dup.search.decision.{row.decision}"))
        with st.expander(label, expanded=rank == 1):
            _comparison(pd.DataFrame(row.explanation), left=t("dup.search.typed"), right=t("dup.search.record"))
    flat = found.drop(columns=["explanation"])
    export_button(flat, "recherche_identites", key="dup_export_search")


with tab_search:
    st.caption(t("dup.search_intro"))
    with st.form("dup_search"):
        c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 1, 2])
        name = c1.text_input(t("dup.search_name"), key="dup_s_name")
        first = c2.text_input(t("dup.field.first_names"), key="dup_s_first")
        born = c3.text_input(t("dup.field.birth_date"), placeholder="jj/mm/aaaa", key="dup_s_born")
        sex = c4.selectbox(t("dup.field.sex"), ["", "F", "M"], key="dup_s_sex",
                           format_func=lambda v: v or t("dup.search.sex_any"))
        ins = c5.text_input(t("dup.search_ins"), key="dup_s_ins")
        searched = st.form_submit_button(t("dup.search"), type="primary", icon=":material/search:")
    if searched:
        st.session_state.pop("dup_found", None)
        with guarded():  # a refusal shows in French from its code
            st.session_state["dup_found"] = identity.search_identities(
                con, me, birth_name=name or None, first_names=first or None,
                birth_date=born or None, sex=sex or None, ins=ins or None, limit=10,
            )
    if (found := st.session_state.get("dup_found")) is not None:
        _search_results(found)

# --- possible collisions: one record, two people? -----------------------------------------
@st.cache_data(show_spinner=False, max_entries=4)
def _collisions(_con, version: str, username: str) -> pd.DataFrame:
    return identity.find_collisions(_con, me)


def _stamp(value: object) -> str:
    return "—" if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert(TIMEZONE).strftime(
        "%d/%m/%Y %H:%M")


def _evidence(row: pd.Series) -> str:
    """One piece of evidence as a French sentence."""
    if row["kind"] == "overlapping_stays":
        return t("dup.collision.overlapping_stays", stay_1=row["stay_1"], service_1=row["service_1"],
                 at_1=_stamp(row["at_1"]), stay_2=row["stay_2"], service_2=row["service_2"],
                 at_2=_stamp(row["at_2"]))
    expected = row["expected"]
    if row["ins"] is None or pd.isna(row["ins"]):  # masked: a role without identity access
        return t(f"dup.collision.masked.{row['kind']}")
    if row["kind"] == "ins_birth_month":
        expected = t(f"dup.month.{int(expected)}")
        found = t(f"dup.month.{int(row['found'])}")
    else:
        found = row["found"]
    return t(f"dup.collision.{row['kind']}", ins=row["ins"], expected=expected, found=found)


with tab_collisions:
    if tab_collisions.open:
        with guarded():
            found = _collisions(con, version, me.username)
            st.caption(t("dup.collisions_intro"))
            if found.empty:
                st.success(t("dup.collisions_none"))
            else:
                patients = list(dict.fromkeys(found["patient_id"]))
                st.metric(t("dup.collisions_patients"), len(patients))
                if len(patients) > COLLISIONS_SHOWN:
                    st.caption(t("dup.collisions_first", n=COLLISIONS_SHOWN, total=len(patients)))
                for pid in patients[:COLLISIONS_SHOWN]:  # one block per record, its evidence as sentences
                    rows = found[found["patient_id"] == pid]
                    head = rows.iloc[0]
                    with st.container(border=True):
                        if can(Permission.VIEW_IDENTITIES):
                            st.markdown(t("dup.collision.record", id=pid, name=head["birth_name"] or "—",
                                          first=head["first_names"] or "", born=_date(head["birth_date"]),
                                          sex=head["sex"] or "—", status=head["identity_status"] or "—"))
                        else:  # the engine emptied the identity: the record by its id
                            st.markdown(t("dup.collision.record_masked", id=pid, sex=head["sex"] or "—",
                                          status=head["identity_status"] or "—"))
                        st.markdown("\n".join(f"- {_evidence(r)}" for _, r in rows.iterrows()))
                export_button(found, "collisions_possibles", key="dup_collisions_export")

# --- duplicate documents -----------------------------------------------------------------
with tab_docs:
    if tab_docs.open:
        with guarded():
            counts = _doc_counts(con, version, me.username)
            cols = st.columns(len(counts))
            for col, (_, row) in zip(cols, counts.iterrows(), strict=True):
                col.metric(t(f"dup.kind.{row['kind']}"), int(row["pairs"]))
            kind = st.segmented_control(t("dup.kind"), list(documents.DUPLICATE_KINDS), key="dup_kind",
                                        format_func=lambda k: t(f"dup.kind.{k}"))
            total = int(counts["pairs"].sum() if kind is None else counts.loc[counts["kind"] == kind, "pairs"].sum())
            if not total:
                st.info(t("dup.no_documents"))
            else:
                shown = _doc_page(con, version, me.username, kind, _offset("dup_docs_page", total, DOCS_PAGE_SIZE))
                page_window(total, key="dup_docs_page", page_size=DOCS_PAGE_SIZE)
                shown = shown.assign(score=[fr_number(s) for s in shown["score"]])
                st.dataframe(shown, hide_index=True, column_config={
                    "kind": t("dup.kind"), "score": t("dup.score"),
                    "reason": t("dup.reason"), "patient_id": t("dup.patient"),
                    "keep_document_id": t("dup.keep"), "run_id": None,
                    **{f"{col}_{n}": t(f"dup.doc.{col}", n=n) for n in (1, 2)
                       for col in ("document_id", "document_type", "title", "status")},
                    **{f"created_at_{n}": st.column_config.DatetimeColumn(t("dup.doc.created_at", n=n),
                                                                          format="DD/MM/YYYY HH:mm")
                       for n in (1, 2)},
                })
                export_button(shown, "documents_en_double", key="dup_docs_export")
