"""Dashboard pages, one script each, routed by ``dashboard/app.py`` (never run directly)."""
