"""Deferred downloads survive other sessions' reruns (``dashboard.state.keep_deferred_downloads``).

Uses Streamlit's real media file manager and in-memory storage: the same objects that serve
``GET /media/<id>`` in ``hygie serve``.
"""

from __future__ import annotations

import time

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from dashboard.state import keep_deferred_downloads


def generated(manager: MediaFileManager, content: bytes = b"patient_id;n\nab12;1\n") -> str:
    """Register a deferred download, run it as a click does, return the stored file's id."""
    placeholder = manager.add_deferred(lambda: content, "text/csv", "coord-1", "hygie_patients.csv")
    url = manager.execute_deferred(placeholder)
    return url.rsplit("/", 1)[-1].split(".", 1)[0]


def servable(manager: MediaFileManager, file_id: str) -> bool:
    return manager.read_file(file_id) is not None


@pytest.fixture
def manager() -> MediaFileManager:
    return MediaFileManager(MemoryMediaFileStorage("/media"))


def test_streamlit_alone_deletes_the_file_after_two_other_reruns(manager):
    """Why the wrapper exists; if this fails, Streamlit fixed it and the wrapper can go."""
    file_id = generated(manager)
    manager.remove_orphaned_files()  # another session's script run finished: marked
    assert servable(manager, file_id)
    manager.remove_orphaned_files()  # and another: deleted before the browser fetched it
    assert not servable(manager, file_id)


@pytest.mark.parametrize(
    ("description", "sweeps"),
    [("a few reruns elsewhere", 2), ("many sessions rerunning", 25)],
)
def test_the_file_stays_servable_during_the_grace_period(manager, description, sweeps):
    keep_deferred_downloads(manager, grace_s=60)
    file_id = generated(manager)
    for _ in range(sweeps):
        manager.remove_orphaned_files()
    assert servable(manager, file_id), description


def test_the_file_is_swept_once_the_grace_period_is_over(manager):
    keep_deferred_downloads(manager, grace_s=0.2)
    file_id = generated(manager)
    manager.remove_orphaned_files()
    time.sleep(0.25)
    manager.remove_orphaned_files()
    manager.remove_orphaned_files()
    assert not servable(manager, file_id)


def test_installing_twice_wraps_once(manager):
    keep_deferred_downloads(manager, grace_s=60)
    first = manager.remove_orphaned_files
    keep_deferred_downloads(manager, grace_s=1)
    assert manager.remove_orphaned_files is first
    assert manager._hygie_download_grace == 60
