"""Uploaded file names never choose a path; server-side imports stay in ``HYGIE_IMPORT_DIR``.

``dashboard.uploads`` is what the Data page calls with the browser's file name and bytes, and
with the name picked from the import folder's listing. The browser test
(``tests/browser/test_uploads.py``) drives the same code through a real server.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from analytics.errors import InvalidInput
from dashboard.uploads import saved_upload, server_file

HOSTILE_NAMES = [
    ("parent folders", "../../x.csv"),
    ("absolute path", "/etc/passwd.csv"),
    ("windows parent folders", "..\\..\\x.csv"),
    ("windows absolute path", "C:\\Windows\\System32\\x.csv"),
    ("parent folders in the middle", "a/../../../b.csv"),
    ("NUL byte before the extension", "x\0.csv"),
    ("right-to-left override", "\u202evsc.exe.csv"),
    ("emoji and accents", "😀 données é.csv"),
    ("shell characters", "$(rm -rf ~);`id`|x.csv"),
    ("newline and tab", "a\nb\tc.csv"),
    ("very long name", "a" * 5000 + ".csv"),
    ("upper-case extension", "EXPORT.CSV"),
    ("device name", "CON.csv"),
    ("url-encoded traversal", "..%2F..%2Fx.csv"),
]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("description, name", HOSTILE_NAMES, ids=[d for d, _ in HOSTILE_NAMES])
def test_an_upload_lands_in_a_fresh_server_folder_under_a_safe_name(tmp_path, monkeypatch, description, name):
    root = tmp_path / "uploads"
    monkeypatch.setenv("HYGIE_UPLOAD_DIR", str(root))
    monkeypatch.chdir(tmp_path)
    before = _files(tmp_path)
    with saved_upload(name, b"IPP;NOM\r\n1;A\r\n") as path:
        assert path.parent.parent == root.resolve(), description  # root / <generated folder> / name
        assert path.parent.name.startswith("hygie-upload-")
        assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}", path.name), (description, path.name)
        assert path.suffix.lower() == ".csv"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # patient data: the server's account only
        assert _files(tmp_path) - before == {path}, description  # nothing written anywhere else
        assert path.read_bytes() == b"IPP;NOM\r\n1;A\r\n"
    assert _files(tmp_path) == before  # removed after the import
    assert list(root.iterdir()) == []


REFUSED = [
    ("executable", "x.exe"),
    ("double extension", "x.csv.exe"),
    ("no extension", "passwd"),
    ("traversal to a file without extension", "../../etc/passwd"),
    ("NUL byte after the extension", "x.csv\0.exe"),
    ("spreadsheet", "export.xlsx"),
    ("text file", "export.txt"),
    ("HTML", "x.html"),
    ("only dots (the name left is 'csv')", "....csv"),
    ("hidden file named .csv", ".csv"),
]


@pytest.mark.parametrize("description, name", REFUSED, ids=[d for d, _ in REFUSED])
def test_a_type_the_importer_does_not_read_is_refused_before_anything_is_written(tmp_path, monkeypatch,
                                                                                description, name):
    root = tmp_path / "uploads"
    monkeypatch.setenv("HYGIE_UPLOAD_DIR", str(root))
    with pytest.raises(InvalidInput) as refused, saved_upload(name, b"MZ\x90\x00"):
        pytest.fail(f"{description}: accepted")
    assert str(refused.value) == "Type de fichier refusé : seuls .csv, .parquet, .ndjson, .json sont acceptés."
    assert not root.exists() or list(root.iterdir()) == []


def test_an_upload_over_the_limit_is_refused_with_the_limit_in_french(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIE_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("HYGIE_MAX_UPLOAD_MB", "1")
    with saved_upload("ok.csv", b"a" * (1024 * 1024)) as path:  # exactly the limit: taken
        assert path.stat().st_size == 1024 * 1024
    with pytest.raises(InvalidInput, match=r"^Fichier trop volumineux : 1 Mo au plus\.$"), \
            saved_upload("big.csv", b"a" * (1024 * 1024 + 1)):
        pytest.fail("accepted")


@pytest.fixture
def import_folder(tmp_path: Path) -> Path:
    """An import folder with a file, a sub-folder, and symlinks leading in and out of it."""
    folder = tmp_path / "imports"
    (folder / "sub").mkdir(parents=True)
    (folder / "patients.csv").write_text("IPP;NOM\n1;A\n")
    (folder / "sub" / "nested.csv").write_text("IPP;NOM\n2;B\n")
    outside = tmp_path / "secret.csv"
    outside.write_text("not for import\n")
    (folder / "escape.csv").symlink_to(outside)
    (folder / "escape_dir").symlink_to(tmp_path)
    (folder / "alias.csv").symlink_to(folder / "patients.csv")
    os.mkfifo(folder / "pipe.csv")
    return folder


SERVER_NAMES = [
    ("a file of the folder", "patients.csv", "patients.csv"),
    ("a symlink to a file of the folder", "alias.csv", "patients.csv"),
    ("a symlink leading out of the folder", "escape.csv", None),
    ("through a symlinked folder leading out", "escape_dir/secret.csv", None),
    ("a file in a sub-folder", "sub/nested.csv", None),
    ("parent folder", "../secret.csv", None),
    ("absolute path", "/etc/passwd", None),
    ("the folder itself", ".", None),
    ("a sub-folder", "sub", None),
    ("a named pipe", "pipe.csv", None),
    ("missing file", "absent.csv", None),
    ("empty name", "", None),
    ("NUL byte", "patients.csv\0", None),
]


@pytest.mark.parametrize("description, name, expected", SERVER_NAMES, ids=[d for d, _, _ in SERVER_NAMES])
def test_a_server_file_must_sit_directly_in_the_import_folder(import_folder, description, name, expected):
    found = server_file(import_folder, name)
    if expected is None:
        assert found is None, description
    else:
        assert found == (import_folder / expected).resolve(), description


def test_a_symlinked_import_folder_is_used_through_its_real_path(import_folder, tmp_path, monkeypatch):
    from dashboard.uploads import import_dir

    link = tmp_path / "link-to-imports"
    link.symlink_to(import_folder)
    monkeypatch.setenv("HYGIE_IMPORT_DIR", str(link))
    folder = import_dir()
    assert folder == import_folder.resolve()
    assert server_file(folder, "patients.csv") == (import_folder / "patients.csv").resolve()
    assert server_file(folder, "escape.csv") is None
