"""Reading zip files people upload (QTI packages, XLSX workbooks) without being hurt by them.

A zip can claim small sizes and expand to gigabytes (a zip bomb), or name its files
``../../etc/passwd`` (path traversal). :func:`read_zip` refuses both: it limits the number
of entries, each file's and the total expanded size (counting the bytes actually inflated,
not the sizes the archive claims) and the compression ratio, and accepts only plain
relative names.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass

MAX_ENTRIES = 2000
MAX_FILE = 20 * 1024 * 1024
MAX_TOTAL = 100 * 1024 * 1024
MAX_RATIO = 200  # expanded / compressed, for entries bigger than a few kB
_CHUNK = 64 * 1024


class PackageError(ValueError):
    """The archive is unsafe or unreadable; the message says which file and why."""


@dataclass(frozen=True)
class Limits:
    entries: int = MAX_ENTRIES
    file: int = MAX_FILE
    total: int = MAX_TOTAL
    ratio: int = MAX_RATIO


def safe_name(name: str) -> str | None:
    """The normalised name of a member, or ``None`` when it could escape the package."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return None
    if len(name) > 1 and name[1] == ":":  # C:...
        return None
    norm = posixpath.normpath(name)
    if norm.startswith("../") or norm == ".." or norm.startswith("/"):
        return None
    return norm


def resolve(base_file: str, href: str) -> str | None:
    """``href`` as written in ``base_file``, as a package member name (``None``: outside)."""
    if not href or "://" in href or href.startswith(("data:", "/", "#")) or ":" in href[:3]:
        return None
    href = href.split("#", 1)[0].split("?", 1)[0]
    from urllib.parse import unquote

    joined = posixpath.join(posixpath.dirname(base_file), unquote(href))
    return safe_name(joined)


def read_zip(data: bytes, limits: Limits = Limits()) -> dict[str, bytes]:
    """Every file of a zip archive by its normalised name; raises :class:`PackageError`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackageError("the file is not a zip archive (or it is damaged)") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > limits.entries:
            raise PackageError(f"the archive has {len(infos)} files; at most {limits.entries}")
        out: dict[str, bytes] = {}
        total = 0
        for info in infos:
            name = safe_name(info.filename)
            if name is None:
                raise PackageError(f"unsafe file name in the archive: {info.filename!r}")
            if info.file_size > limits.file:
                raise PackageError(f"{name} expands to more than {limits.file // 2**20} MB")
            if info.compress_size and info.file_size > 16384 and \
                    info.file_size / info.compress_size > limits.ratio:
                raise PackageError(f"{name} is compressed suspiciously well (zip bomb?)")
            buf = bytearray()
            try:
                with archive.open(info) as fh:
                    while chunk := fh.read(_CHUNK):
                        buf += chunk
                        total += len(chunk)
                        if len(buf) > limits.file or total > limits.total:
                            raise PackageError(f"{name} expands beyond the size it claims or "
                                               f"the archive beyond {limits.total // 2**20} MB")
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise PackageError(f"{name} cannot be read: {exc}") from None
            if name in out:
                raise PackageError(f"{name} appears twice in the archive")
            out[name] = bytes(buf)
        return out
