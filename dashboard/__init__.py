"""Hygie's Streamlit dashboard: thin pages over the ``analytics`` engine.

``app.py`` is the router; ``state.py`` holds the server-wide warehouse connection;
``auth.py`` the login; ``i18n.py`` every user-facing string; ``charts.py`` the plotly figures;
``components.py`` the pieces shared by pages (export button, error boundary, paging).
"""
