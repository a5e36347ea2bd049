"""Uploaded files are judged by their content, whatever their name says."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from PIL import Image

from core import uploads


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.mark.parametrize(("ext", "data", "expected"), [
    ("png", _png(), "image/png"),
    ("jpg", _png(), "image/png"),  # the type stored is what the content is
    ("pdf", b"%PDF-1.7\n...\n%%EOF\n", "application/pdf"),
    ("docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("txt", b"Laporan: jaringan putus", "text/plain"),
])
def test_real_files_are_accepted(ext, data, expected):
    assert uploads.sniff(ext, data) == expected


@pytest.mark.parametrize(("ext", "data", "guess"), [
    ("png", b"MZ\x90\x00program", "a Windows program"),
    ("pdf", b"%PDF-1.7 but never ends", "a PDF"),
    ("docx", b"PK\x03\x04broken", "a ZIP archive"),
    ("txt", b"<html><script>alert(1)</script>", "HTML or XML"),
    ("xlsx", _docx(), "a ZIP archive"),  # a Word package renamed .xlsx
    ("exe", b"MZ", "a Windows program"),
])
def test_disguised_files_are_refused(ext, data, guess):
    assert uploads.sniff(ext, data) is None
    assert uploads.looks_like(data) == guess


def test_names_are_cleaned():
    assert uploads.clean_name("../../etc/pass\x00wd.txt") == "passwd.txt"
    assert uploads.clean_name("C:\\Users\\a\\foto  ujian.png") == "foto ujian.png"
    assert uploads.clean_name("...", fallback="lampiran") == "lampiran"
    assert len(uploads.clean_name("a" * 300 + ".pdf")) == uploads.MAX_NAME


def test_store_is_private_and_refuses_foreign_names(tmp_path):
    store = uploads.Store(tmp_path, "helpdesk")
    name = store.save(b"isi")
    path = store.path(name)
    assert path is not None and path.read_bytes() == b"isi"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.path("../../secret_key") is None
    store.remove([name, "../../secret_key"])
    assert not path.exists()
