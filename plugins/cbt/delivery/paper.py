"""A candidate's paper as a kiosk gets it: their items, encrypted under a per-attempt key.

The paper is built from the attempt the authoring side made (``exams.start_attempt``: the
item versions and the candidate's option order, fixed by the attempt's seed). It holds
what the candidate reads and nothing that scores: stems, options, matching lists, points.
Answer keys, weights, feedback and rubrics stay on the server.

Options are numbered in the order the candidate sees them (0, 1, 2...), and the kiosk
answers with those numbers. The authored ids (``a``, ``b``...) never leave the server:
authors and import formats tend to write the correct option first, so the ids would give
the answer away. :func:`responses` maps a stored answer back to the authored ids for
scoring.

The paper is JSON, encrypted with AES-256-GCM under a fresh 32-byte key per attempt,
with the associated data ``ruang-paper/v1/<attempt id>``. The key is stored sealed under
the exam's data key (``plugins.cbt.crypto``) and sent to the kiosk only when the attempt
starts; images are inlined as ``data:`` URIs so the encrypted paper is all a kiosk needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.cbt import crypto
from plugins.cbt import exams as exam_service
from plugins.cbt.bank import asset_bytes, open_version
from plugins.cbt.content import ItemContent, ItemKey
from plugins.cbt.models import Asset, Attempt, Bank, Candidate, Exam, ItemVersion
from plugins.cbt.render import with_image_urls

__all__ = ["ENVELOPE_VERSION", "Staged", "aad_for", "display_order", "open_envelope",
           "opened_version", "paper_key", "preload_versions", "responses", "seal_key", "stage",
           "start_attempt"]

ENVELOPE_VERSION = 1
KEY_TABLE = "cbt_delivery_attempts"
KEY_FIELD = "paper_key"
NONCE_BYTES = 12


def aad_for(attempt_id: int) -> str:
    """The associated data a paper is encrypted with: the kiosk checks it is its own."""
    return f"ruang-paper/v{ENVELOPE_VERSION}/{attempt_id}"


@dataclass(frozen=True)
class Staged:
    """A paper ready for a kiosk: its key (secret), the envelope it downloads, its shape."""

    key: bytes
    envelope: bytes
    shape: list[dict[str, Any]]


class _LRU:
    """A small thread-safe cache: item versions and images never change once stored."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


# Item versions opened (decrypted, validated, sanitised), keyed by (row id, digest of the
# sealed content and key): a version not yet on anyone's paper may still be edited in place
# (``bank.update_item``), and its new ciphertext is a new key, so an edit is never served
# stale. Only in this process's memory, never written anywhere. Images: (instance, row id).
_opened = _LRU(4096)
_images = _LRU(512)


def _folder() -> Path:
    from core.instance import ruang

    return ruang().settings.instance.resolve()


def opened_version(session: Session, version: ItemVersion, bank: Bank | None = None
                   ) -> tuple[ItemContent, ItemKey]:
    """``bank.open_version`` through the cache. Every sign-in of an exam opens the same
    versions (to build the paper, then to stage it); opening one costs two decryptions and
    a validation that re-sanitises its HTML. The result is shared: do not change it."""
    digest = hashlib.blake2b(version.content_enc, digest_size=16)
    digest.update(b"\0")
    digest.update(version.key_enc)
    cache_key = (version.id, digest.digest())
    found: tuple[ItemContent, ItemKey] | None = _opened.get(cache_key)
    if found is None:
        found = open_version(session, version, bank)
        _opened.put(cache_key, found)
    return found


def _content(session: Session, version: ItemVersion) -> ItemContent:
    return opened_version(session, version)[0]


# More pinned versions than this (a draw from a very large pool) are not loaded up front.
PRELOAD_MAX = 400


def preload_versions(session: Session, exam: Exam) -> list[ItemVersion]:
    """The exam's pinned item versions, loaded in one query. The session keeps loaded rows
    only while someone holds them, so ``build_paper`` and :func:`build` each queried every
    version on their own (80 queries a sign-in for 40 items); while the caller holds this
    list, ``session.get`` finds them in memory."""
    ids = sorted({int(v) for section in exam.sections for slot in section.slots
                  for v in (slot.pinned or [])})
    if not ids or len(ids) > PRELOAD_MAX:
        return []
    return list(session.scalars(select(ItemVersion).where(ItemVersion.id.in_(ids))))


def start_attempt(session: Session, exam: Exam, candidate: Candidate) -> Attempt:
    """``exams.start_attempt`` (which builds the candidate's paper) with the item versions
    opened through :func:`opened_version`: the paper is the same, built without decrypting
    every item again for every candidate."""
    return exam_service.start_attempt(session, exam, candidate)


# exams.build_paper opens each item version of the paper to shuffle its options. The exams
# module is the authoring side's; rather than change it, its ``open_version`` (bank's) is
# replaced by the cached one, which returns the same content for the same stored version.
if exam_service.open_version is open_version:
    exam_service.open_version = opened_version


def _image_uri(session: Session, asset_id: int) -> str | None:
    cache_key = (_folder(), asset_id)
    uri: str | None = _images.get(cache_key)
    if uri is None:
        row = session.get(Asset, asset_id)
        if row is None:
            return None
        data = asset_bytes(session, row)
        uri = f"data:{row.mime};base64,{base64.b64encode(data).decode()}"
        _images.put(cache_key, uri)
    return uri


def display_order(content: ItemContent, option_order: dict[str, Any]) -> tuple[
        list[str], list[str], list[str]]:
    """Authored ids of the choices, prompts and matching answers, in the candidate's order.

    The same rule as the staff preview (``render.render_item``): the stored order where it
    names existing ids, else the authored order.
    """
    choices = [c.id for c in content.choices]
    order = [cid for cid in option_order.get("choices") or [] if cid in choices] or choices
    answers = [a.id for a in content.answers]
    a_order = [aid for aid in option_order.get("answers") or [] if aid in answers] or answers
    return order, [p.id for p in content.prompts], a_order


def _shape(item_type: str, content: ItemContent, n_choices: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"t": item_type}
    if item_type in ("single", "multiple"):
        entry["o"] = n_choices
    elif item_type == "matching":
        entry["p"] = len(content.prompts)
        entry["a"] = len(content.answers)
    return entry


def build(session: Session, attempt: Attempt, exam: Exam) -> tuple[dict[str, Any],
                                                                    list[dict[str, Any]]]:
    """The paper's plaintext (a dict) and its answer shape, one entry per position."""
    def inline(fragment: str) -> str:
        # An image that no longer exists loses its source rather than breaking the paper.
        return with_image_urls(fragment, lambda aid: _image_uri(session, aid) or "")

    sections = {s.id: n for n, s in enumerate(exam.sections)}
    items: list[dict[str, Any]] = []
    shape: list[dict[str, Any]] = []
    for ai in attempt.items:
        version = session.get(ItemVersion, ai.item_version_id)
        if version is None:
            raise LookupError(f"item version {ai.item_version_id} of the paper is missing")
        content = _content(session, version)
        order, _prompts, a_order = display_order(content, ai.option_order or {})
        by_id = {c.id: c.html for c in content.choices}
        answers = {a.id: a.html for a in content.answers}
        item: dict[str, Any] = {
            "n": ai.position, "s": sections.get(ai.section_id or -1, 0), "type": version.type,
            "points": ai.points, "title": content.title, "stem": inline(content.stem),
        }
        if version.type in ("single", "multiple"):
            item["options"] = [inline(by_id[cid]) for cid in order]
        if version.type == "matching":
            item["prompts"] = [inline(p.html) for p in content.prompts]
            item["answers"] = [inline(answers[aid]) for aid in a_order]
        if version.type == "essay" and content.max_words:
            item["max_words"] = content.max_words
        items.append(item)
        shape.append(_shape(version.type, content, len(order)))
    paper = {
        "v": ENVELOPE_VERSION, "attempt": attempt.id,
        "exam": {"code": exam.code, "title": exam.title},
        "sections": [{"title": s.title} for s in exam.sections],
        "items": items,
    }
    return paper, shape


def encrypt(key: bytes, attempt_id: int, plaintext: bytes) -> bytes:
    """The envelope a kiosk downloads: JSON with base64 nonce and ciphertext (tag appended)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    aad = aad_for(attempt_id)
    data = AESGCM(key).encrypt(nonce, plaintext, aad.encode())
    return json.dumps({
        "v": ENVELOPE_VERSION, "alg": "AES-256-GCM", "attempt": attempt_id,
        "iv": base64.b64encode(nonce).decode(), "aad": aad,
        "data": base64.b64encode(data).decode(),
    }, separators=(",", ":")).encode()


def open_envelope(key: bytes, envelope: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Decrypt an envelope as a kiosk does (tests and tools; the server never needs it)."""
    env = envelope if isinstance(envelope, dict) else json.loads(envelope)
    data = AESGCM(key).decrypt(base64.b64decode(env["iv"]), base64.b64decode(env["data"]),
                               str(env["aad"]).encode())
    paper: dict[str, Any] = json.loads(data)
    return paper


def stage(session: Session, attempt: Attempt, exam: Exam) -> Staged:
    """Build and encrypt the attempt's paper under a new key."""
    paper, shape = build(session, attempt, exam)
    key = AESGCM.generate_key(bit_length=256)
    plaintext = json.dumps(paper, ensure_ascii=False, separators=(",", ":")).encode()
    return Staged(key=key, envelope=encrypt(key, attempt.id, plaintext), shape=shape)


def seal_key(session: Session, exam: Exam, attempt_id: int, key: bytes) -> bytes:
    """The paper key as stored: sealed under the exam's data key, bound to its row."""
    return crypto.seal(session, exam.data_key_id, KEY_TABLE, attempt_id, KEY_FIELD, key)


def paper_key(session: Session, exam_data_key_id: int, attempt_id: int, sealed: bytes) -> bytes:
    return crypto.unseal(session, exam_data_key_id, KEY_TABLE, attempt_id, KEY_FIELD, sealed)


def responses(session: Session, attempt: Attempt, answers: dict[int, Any]) -> dict[int, Any]:
    """Stored answers (position -> kiosk value) in the authored ids ``scoring`` expects.

    ``single``: a choice id; ``multiple``: a list of choice ids; ``matching``: prompt id ->
    answer id; other types unchanged. Unanswered items are left out.
    """
    out: dict[int, Any] = {}
    by_position = {ai.position: ai for ai in attempt.items}
    for position, value in answers.items():
        ai = by_position.get(position)
        if ai is None or value is None:
            continue
        version = session.get(ItemVersion, ai.item_version_id)
        if version is None:
            continue
        content = _content(session, version)
        order, prompts, a_order = display_order(content, ai.option_order or {})
        if version.type == "single":
            out[position] = order[value] if isinstance(value, int) and value < len(order) else None
        elif version.type == "multiple":
            out[position] = [order[i] for i in value if isinstance(i, int) and i < len(order)]
        elif version.type == "matching":
            out[position] = {prompts[i]: a_order[v] for i, v in enumerate(value)
                             if v is not None and i < len(prompts) and v < len(a_order)}
        else:
            out[position] = value
    return out
