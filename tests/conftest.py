"""Shared fixtures: real DuckDB warehouses in temporary folders; the session's measured figures."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import pytest

from analytics.warehouse import connect
from tests import figures

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data" / "small"


@pytest.fixture(scope="session", autouse=True)
def _key_folder(tmp_path_factory: pytest.TempPathFactory):
    """Pseudonymisation keys made by tests go to a temporary folder, not ~/.config/hygie/keys
    (subprocesses started by tests inherit it)."""
    previous = os.environ.get("HYGIE_SECRET_DIR")
    os.environ["HYGIE_SECRET_DIR"] = str(tmp_path_factory.mktemp("hygie-keys"))
    yield
    if previous is None:
        os.environ.pop("HYGIE_SECRET_DIR", None)
    else:
        os.environ["HYGIE_SECRET_DIR"] = previous


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh (not yet created) warehouse file."""
    return tmp_path / "hygie.duckdb"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated warehouse file per test session; tests get copies (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def con(db_path: Path):
    """A read-write connection to a fresh, migrated warehouse file."""
    connection = connect(db_path)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def chromium():
    """The one headless Chromium of the test process (Debian's, driven by Playwright): its sync
    API allows a single running instance per thread, so every module that drives a browser
    (tests/browser, the session-cookie attacks in tests/hardening) shares this one."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


# --- measured figures (tests/figures.py), summed over xdist workers -----------------------------
_FIGURES: dict[str, collections.Counter[str]] = {}


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counters to the controller
        workeroutput["hygie_figures"] = figures.snapshot()
    else:
        figures.merge(_FIGURES, figures.snapshot())


def pytest_testnodedown(node, error) -> None:  # noqa: ANN001 - xdist hook
    figures.merge(_FIGURES, getattr(node, "workeroutput", {}).get("hygie_figures"))


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest hook
    if not _FIGURES:
        return
    terminalreporter.section("Hygie measured figures")
    for title, counts in sorted(_FIGURES.items()):
        total = sum(counts.values())
        terminalreporter.line(f"{title} (total {total}): " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
