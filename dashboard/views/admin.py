"""Admin: accounts and roles, the access log (read-only), settings."""

from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from analytics import identity
from analytics.access import access_log, auth
from analytics.access.roles import ROLES, Permission
from dashboard import state
from dashboard.components import actor, can, export_button, guarded, page_window
from dashboard.i18n import t

me = actor()
st.title(t("nav.admin"))
con = state.con()

if message := st.session_state.pop("admin_flash", None):
    st.success(message)

tab_users, tab_log, tab_settings = st.tabs([t("admin.tab.users"), t("admin.tab.log"), t("admin.tab.settings")])

with tab_users:
    if not can(Permission.MANAGE_USERS):
        st.info(t("denied.page", role=t(f"role.{me.role}")))
    else:
        users = None
        with guarded():
            users = auth.list_users(con, me)
            st.dataframe(users, hide_index=True, column_config={
                "username": t("admin.col.username"), "display_name": t("admin.col.name"),
                "role": t("admin.col.role"), "active": t("admin.col.active"), "is_demo": t("admin.col.demo"),
                "has_password": t("admin.col.password"), "failed_attempts": t("admin.col.failures"),
                "locked_until": st.column_config.DatetimeColumn(t("admin.col.locked"), format="DD/MM/YYYY HH:mm"),
                "created_at": st.column_config.DatetimeColumn(t("admin.col.created"), format="DD/MM/YYYY"),
                "created_by": t("admin.col.created_by"),
                "password_changed_at": None,
                "last_login_at": st.column_config.DatetimeColumn(t("admin.col.last_login"), format="DD/MM/YYYY HH:mm"),
            })
        c1, c2 = st.columns(2)
        with c1, st.form("admin_create", clear_on_submit=True):
            st.markdown(t("admin.create"))
            username = st.text_input(t("login.username"), key="admin_new_username")
            display = st.text_input(t("admin.col.name"), key="admin_new_display")
            role = st.selectbox(t("admin.col.role"), ROLES, index=3, format_func=lambda r: t(f"role.{r}"), key="admin_new_role")
            password = st.text_input(t("login.password"), type="password", key="admin_new_password",
                                     help=t("admin.password_help"), autocomplete="new-password")
            if st.form_submit_button(t("admin.create_submit"), type="primary"):
                with guarded():
                    auth.create_user(con, me, username, role, password, display or None)
                    st.session_state["admin_flash"] = t("admin.created", user=username)
                    st.rerun()
        with c2, st.form("admin_change"):
            st.markdown(t("admin.change"))
            names = [] if users is None else list(users["username"])
            who = st.selectbox(t("admin.col.username"), names, key="admin_who")
            action = st.radio(t("admin.action"), ["role", "password", "unlock", "deactivate"], key="admin_action",
                              format_func=lambda a: t(f"admin.action.{a}"), horizontal=True)
            new_role = st.selectbox(t("admin.col.role"), ROLES, format_func=lambda r: t(f"role.{r}"), key="admin_role")
            new_password = st.text_input(t("admin.new_password"), type="password", key="admin_password",
                                         autocomplete="new-password")
            if st.form_submit_button(t("admin.change_submit")):
                with guarded():
                    if action == "role":
                        auth.set_role(con, me, who, new_role)
                    elif action == "password":
                        auth.set_password(con, me, who, new_password)
                    elif action == "unlock":
                        auth.unlock(con, me, who)
                    else:
                        auth.deactivate(con, me, who)
                    st.session_state["admin_flash"] = t("admin.changed", user=who)
                    st.rerun()

with tab_log:
    with guarded():
        ok, bad_row = access_log.verify_chain(con)
        if ok:
            st.success(t("admin.chain_ok"), icon=":material/verified:")
        else:
            st.error(t("admin.chain_broken", row=bad_row))
        c1, c2, c3 = st.columns(3)
        user = c1.text_input(t("admin.filter_user"), key="admin_log_user").strip() or None
        action = c2.selectbox(t("admin.filter_action"), sorted(access_log.ACTIONS), index=None, key="admin_log_action")
        since = c3.date_input(t("admin.filter_since"), value=None, key="admin_log_since", format="DD/MM/YYYY")
        log = access_log.read_log(
            con, me, username=user, action=action,
            since=datetime.combine(since, time(0)) if since else None, limit=5000,
        )
        offset, limit = page_window(len(log), key="admin_log_page")
        st.dataframe(log.iloc[offset : offset + limit], hide_index=True, column_config={
            "log_id": "#", "logged_at": st.column_config.DatetimeColumn(t("admin.col.when"), format="DD/MM/YYYY HH:mm:ss"),
            "actor": t("admin.col.username"), "role": t("admin.col.role"), "via": t("admin.col.via"),
            "action": t("admin.col.action"), "object": t("admin.col.object"),
            "row_count": t("admin.col.rows"), "detail": t("admin.col.detail"),
        })
        st.caption(t("admin.log_readonly"))
        export_button(log, "access_log", key="admin_export_log")

with tab_settings:
    if can(Permission.CHANGE_SETTINGS):
        four_eyes_on = False
        with guarded():
            four_eyes_on = identity.four_eyes(con)
        wanted = st.toggle(t("admin.four_eyes"), value=four_eyes_on, key="admin_four_eyes",
                           help=t("admin.four_eyes_help"))
        if wanted != four_eyes_on:
            with guarded():
                identity.set_four_eyes(con, me, wanted)
                st.session_state["admin_flash"] = t("admin.four_eyes_on" if wanted else "admin.four_eyes_off")
                st.rerun()
    settings = con.execute("SELECT key, value, updated_at, updated_by FROM settings ORDER BY key").df()
    if settings.empty:
        st.info(t("admin.no_settings"))
    else:
        st.dataframe(settings, hide_index=True, column_config={
            "key": t("admin.col.key"), "value": t("admin.col.value"),
            "updated_at": st.column_config.DatetimeColumn(t("admin.col.when"), format="DD/MM/YYYY HH:mm"),
            "updated_by": t("admin.col.created_by"),
        })
    st.caption(t("admin.settings_help"))
