"""Figures some tests measure for the docs (fuzz cases run, disk-full outcomes), shown once in
pytest's closing summary instead of by tests that assert nothing.

A test module registers a ``collections.Counter`` under a title with :func:`track`; at the end
of the session every process reports its counters (xdist workers through ``workeroutput``) and
the controller prints their sums under "Hygie measured figures".
"""

from __future__ import annotations

import collections
import json

_TRACKED: dict[str, collections.Counter[str]] = {}


def track(title: str, counter: collections.Counter[str]) -> collections.Counter[str]:
    """Report ``counter`` under ``title`` in the session summary; returns it for assignment."""
    _TRACKED[title] = counter
    return counter


def snapshot() -> str:
    """This process's counters as JSON (only those that counted something)."""
    return json.dumps({title: dict(counter) for title, counter in _TRACKED.items() if counter})


def merge(into: dict[str, collections.Counter[str]], text: str | None) -> None:
    """Add a :func:`snapshot` to ``into``."""
    for title, counts in json.loads(text or "{}").items():
        into.setdefault(title, collections.Counter()).update(counts)
