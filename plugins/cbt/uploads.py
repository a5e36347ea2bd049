"""Uploaded import files kept between the dry run and the import, sealed like bank content.

The preview page lets staff read every problem and then import the good items without
choosing the file again. The file holds question text, so it is kept encrypted under the
bank's data key (in the instance folder, for an hour at most), never as plain text.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from plugins.cbt import crypto
from plugins.cbt.models import Bank

TTL_S = 3600


def _folder() -> Path:
    from core.instance import ruang

    folder = ruang().settings.instance / "cbt-uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _aad(bank: Bank, token: str) -> bytes:
    return f"cbt_upload|{bank.id}|{token}".encode()


def _sweep(folder: Path) -> None:
    cutoff = time.time() - TTL_S
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue


def stash(session: Session, bank: Bank, data: bytes, filename: str, fmt: str) -> str:
    folder = _folder()
    _sweep(folder)
    token = secrets.token_urlsafe(24)
    header = json.dumps({"filename": filename, "format": fmt}).encode()
    blob = crypto.encrypt(crypto.data_key(session, bank.data_key_id),
                          len(header).to_bytes(4, "big") + header + data, _aad(bank, token))
    (folder / token).write_bytes(blob)
    return token


def take(session: Session, bank: Bank, token: str, *, remove: bool = False) -> tuple[
        bytes, dict[str, Any]] | None:
    if not token or not all(c.isalnum() or c in "-_" for c in token):
        return None
    path = _folder() / token
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    if time.time() - path.stat().st_mtime > TTL_S:
        path.unlink(missing_ok=True)
        return None
    try:
        plain = crypto.decrypt(crypto.data_key(session, bank.data_key_id), blob,
                               _aad(bank, token))
    except crypto.CryptoError:
        return None
    size = int.from_bytes(plain[:4], "big")
    meta = json.loads(plain[4 : 4 + size])
    if remove:
        path.unlink(missing_ok=True)
    return plain[4 + size :], meta
