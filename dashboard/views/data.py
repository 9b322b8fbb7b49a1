"""data page (filled as the engine lands)."""

import streamlit as st

from dashboard.components import actor, unavailable
from dashboard.i18n import t

actor()
st.title(t("nav.data"))
unavailable("data")
