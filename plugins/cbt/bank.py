"""Question banks: banks, categories, tags, images and versioned items, sealed at rest.

Every function works inside the caller's session; writers call them inside
``db.transaction()`` so that an item, its version, its images and its audit entry commit
or vanish together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from core.audit.service import record as audit
from core.db import utcnow
from plugins.cbt import crypto
from plugins.cbt.content import ItemContent, ItemDraft, ItemKey, check
from plugins.cbt.models import (
    Asset,
    AttemptItem,
    Bank,
    Category,
    Item,
    ItemTag,
    ItemVersion,
    Tag,
)
from plugins.cbt.richtext import (
    ASSET_SCHEME,
    FILE_SCHEME,
    check_image,
    image_sources,
    rewrite_images,
    to_plain,
)

NAME_RE = re.compile(r"^\S.{0,198}\S$|^\S$")


class BankError(ValueError):
    """A bank or item change that is refused; the message says why."""


@dataclass
class ItemData:
    """One item version, opened: what staff see and edit, what exports write."""

    item_id: int
    bank_id: int
    version_id: int
    number: int
    current_version: int
    type: str
    points: float
    category: str
    tags: list[str]
    content: ItemContent
    key: ItemKey
    locked: bool
    archived: bool
    updated_at: datetime

    @property
    def summary(self) -> str:
        text = self.content.title or to_plain(self.content.stem)
        text = re.sub(r"\s+", " ", text)
        return text[:140] + ("…" if len(text) > 140 else "")

    def draft(self) -> ItemDraft:
        return ItemDraft(type=self.type, content=self.content, key=self.key,  # type: ignore[arg-type]
                         points=self.points, category=self.category, tags=list(self.tags))


# -- banks, categories, tags ----------------------------------------------------------------


def create_bank(session: Session, name: str, description: str = "", actor: Any = None) -> Bank:
    name = name.strip()
    if not NAME_RE.match(name):
        raise BankError("a bank name has 1 to 200 characters")
    if session.scalar(select(Bank.id).where(func.lower(Bank.name) == name.lower())):
        raise BankError(f"a bank named {name!r} already exists")
    key = crypto.new_data_key(session, "bank")
    bank = Bank(name=name, description=description.strip(), data_key_id=key.id,
                created_by=getattr(actor, "id", None))
    session.add(bank)
    session.flush()
    key.purpose = f"bank:{bank.id}"
    audit(session, "cbt.bank.created", actor=actor, object_type="cbt_bank", object_id=bank.id,
          details={"name": name})
    return bank


def bank_by_name(session: Session, name: str) -> Bank | None:
    return session.scalar(select(Bank).where(func.lower(Bank.name) == name.strip().lower()))


def banks(session: Session) -> list[Bank]:
    return list(session.scalars(select(Bank).where(Bank.archived.is_(False)).order_by(Bank.name)))


def bank_counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Item.bank_id, func.count()).where(Item.archived.is_(False)).group_by(Item.bank_id)
    ).all()
    return {int(b): int(n) for b, n in rows}


def categories(session: Session, bank: Bank) -> list[Category]:
    return list(session.scalars(
        select(Category).where(Category.bank_id == bank.id).order_by(Category.name)))


def ensure_category(session: Session, bank: Bank, name: str) -> Category | None:
    if not name:
        return None
    cat = session.scalar(select(Category).where(Category.bank_id == bank.id,
                                                Category.name == name))
    if cat is None:
        cat = Category(bank_id=bank.id, name=name)
        session.add(cat)
        session.flush()
    return cat


def tags(session: Session, bank: Bank) -> list[Tag]:
    return list(session.scalars(select(Tag).where(Tag.bank_id == bank.id).order_by(Tag.name)))


def _ensure_tags(session: Session, bank: Bank, names: Iterable[str]) -> list[Tag]:
    out = []
    for name in names:
        tag = session.scalar(select(Tag).where(Tag.bank_id == bank.id, Tag.name == name))
        if tag is None:
            tag = Tag(bank_id=bank.id, name=name)
            session.add(tag)
            session.flush()
        out.append(tag)
    return out


# -- images --------------------------------------------------------------------------------


def add_asset(session: Session, bank: Bank, data: bytes, mime: str | None = None) -> Asset:
    real = check_image(mime, data)
    asset = Asset(bank_id=bank.id, mime=real, size=len(data), data_enc=b"")
    session.add(asset)
    session.flush()
    asset.data_enc = crypto.seal(session, bank.data_key_id, Asset.__tablename__, asset.id,
                                 "data", data)
    return asset


def asset_bytes(session: Session, asset: Asset) -> bytes:
    bank = session.get(Bank, asset.bank_id)
    assert bank is not None
    return crypto.unseal(session, bank.data_key_id, Asset.__tablename__, asset.id, "data",
                         asset.data_enc)


def asset_id(src: str) -> int | None:
    if src.startswith(ASSET_SCHEME + ":") and src[len(ASSET_SCHEME) + 1:].isdigit():
        return int(src[len(ASSET_SCHEME) + 1:])
    return None


# -- html walking ---------------------------------------------------------------------------


def map_html(content: ItemContent, key: ItemKey, fn: Callable[[str], str]) -> tuple[
        ItemContent, ItemKey]:
    """Apply ``fn`` to every rich-text field of an item (both halves)."""
    c = content.model_copy(deep=True)
    k = key.model_copy(deep=True)
    c.stem = fn(c.stem)
    for group in (c.choices, c.prompts, c.answers):
        for entry in group:
            entry.html = fn(entry.html)
    k.feedback = {name: fn(v) for name, v in k.feedback.items()}
    k.general_feedback = fn(k.general_feedback) if k.general_feedback else ""
    k.rubric = fn(k.rubric) if k.rubric else ""
    return c, k


def html_fields(content: ItemContent, key: ItemKey) -> list[str]:
    seen: list[str] = []
    map_html(content, key, lambda h: seen.append(h) or h)  # type: ignore[func-returns-value]
    return seen


def image_problems(draft: ItemDraft, bank: Bank | None = None,
                   session: Session | None = None) -> list[str]:
    """Images the draft refers to that it does not carry (or that are another bank's)."""
    problems: list[str] = []
    for fragment in html_fields(draft.content, draft.key):
        for src in image_sources(fragment):
            if src.startswith(FILE_SCHEME + ":"):
                if src[len(FILE_SCHEME) + 1:] not in draft.files:
                    problems.append(f"image {src[len(FILE_SCHEME) + 1:]!r} is missing")
                continue
            aid = asset_id(src)
            if aid is None:
                problems.append(f"image {src!r} is not part of the item (only images inside "
                                "the file or package can be imported)")
            elif session is not None and bank is not None:
                asset = session.get(Asset, aid)
                if asset is None or asset.bank_id != bank.id:
                    problems.append(f"image {aid} does not belong to this bank")
    return problems


def _store_files(session: Session, bank: Bank, draft: ItemDraft) -> tuple[ItemContent, ItemKey]:
    stored: dict[str, int] = {}

    def rewrite(src: str) -> str | None:
        if not src.startswith(FILE_SCHEME + ":"):
            return src
        name = src[len(FILE_SCHEME) + 1:]
        if name not in stored:
            mime, data = draft.files[name]
            stored[name] = add_asset(session, bank, data, mime).id
        return f"{ASSET_SCHEME}:{stored[name]}"

    return map_html(draft.content, draft.key, lambda h: rewrite_images(h, rewrite))


# -- items ---------------------------------------------------------------------------------


def _validate(session: Session, bank: Bank, draft: ItemDraft) -> None:
    problems = check(draft) + image_problems(draft, bank, session)
    if problems:
        raise BankError("; ".join(problems))


def _write_version(session: Session, bank: Bank, version: ItemVersion, draft: ItemDraft) -> None:
    content, key = _store_files(session, bank, draft)
    version.type = draft.type
    version.points = draft.points
    version.content_enc = crypto.seal_json(session, bank.data_key_id, ItemVersion.__tablename__,
                                           version.id, "content", content.model_dump())
    version.key_enc = crypto.seal_json(session, bank.data_key_id, ItemVersion.__tablename__,
                                       version.id, "key", key.model_dump())


def _set_meta(session: Session, bank: Bank, item: Item, draft: ItemDraft) -> None:
    cat = ensure_category(session, bank, draft.category)
    item.category_id = cat.id if cat else None
    item.type = draft.type
    item.tags = _ensure_tags(session, bank, draft.tags)


def create_item(session: Session, bank: Bank, draft: ItemDraft, actor: Any = None, *,
                audited: bool = True) -> Item:
    """Store a new item (version 1). Raises :class:`BankError` when the draft is not valid."""
    _validate(session, bank, draft)
    item = Item(bank_id=bank.id, type=draft.type, current_version=1,
                created_by=getattr(actor, "id", None))
    session.add(item)
    _set_meta(session, bank, item, draft)
    session.flush()
    version = ItemVersion(item_id=item.id, number=1, type=draft.type, points=draft.points,
                          created_by=getattr(actor, "id", None))
    session.add(version)
    session.flush()
    _write_version(session, bank, version, draft)
    if audited:
        audit(session, "cbt.item.created", actor=actor, object_type="cbt_item",
              object_id=item.id, details={"bank": bank.id, "type": draft.type})
    return item


def is_locked(session: Session, version_id: int) -> bool:
    """Whether a candidate's paper refers to this version (then it never changes)."""
    return bool(session.scalar(select(exists().where(AttemptItem.item_version_id == version_id))))


def current_version(session: Session, item: Item) -> ItemVersion:
    version = session.scalar(select(ItemVersion).where(
        ItemVersion.item_id == item.id, ItemVersion.number == item.current_version))
    if version is None:
        raise BankError(f"item {item.id} has no version {item.current_version}")
    return version


def update_item(session: Session, item: Item, draft: ItemDraft, actor: Any = None,
                note: str = "") -> ItemVersion:
    """Change an item. A version on a candidate's paper is kept and a new one is made.

    Returns the version that now holds the change (the same one when it was not in use).
    """
    bank = session.get(Bank, item.bank_id)
    assert bank is not None
    _validate(session, bank, draft)
    version = current_version(session, item)
    if is_locked(session, version.id):
        version = ItemVersion(item_id=item.id, number=item.current_version + 1, type=draft.type,
                              points=draft.points, note=note[:300],
                              created_by=getattr(actor, "id", None))
        session.add(version)
        session.flush()
        item.current_version = version.number
        created = True
    else:
        version.note = note[:300]
        created = False
    _write_version(session, bank, version, draft)
    _set_meta(session, bank, item, draft)
    item.updated_at = utcnow()
    audit(session, "cbt.item.updated", actor=actor, object_type="cbt_item", object_id=item.id,
          details={"version": version.number, "new_version": created})
    return version


def archive_item(session: Session, item: Item, actor: Any = None, archived: bool = True) -> None:
    item.archived = archived
    item.updated_at = utcnow()
    audit(session, "cbt.item.archived" if archived else "cbt.item.restored", actor=actor,
          object_type="cbt_item", object_id=item.id)


def open_version(session: Session, version: ItemVersion, bank: Bank | None = None) -> tuple[
        ItemContent, ItemKey]:
    item = session.get(Item, version.item_id)
    assert item is not None
    bank = bank or session.get(Bank, item.bank_id)
    assert bank is not None
    table = ItemVersion.__tablename__
    content = crypto.unseal_json(session, bank.data_key_id, table, version.id, "content",
                                 version.content_enc)
    key = crypto.unseal_json(session, bank.data_key_id, table, version.id, "key",
                             version.key_enc)
    return ItemContent.model_validate(content), ItemKey.model_validate(key)


def item_data(session: Session, item: Item, version: ItemVersion | None = None) -> ItemData:
    bank = session.get(Bank, item.bank_id)
    assert bank is not None
    version = version or current_version(session, item)
    content, key = open_version(session, version, bank)
    cat = session.get(Category, item.category_id) if item.category_id else None
    return ItemData(
        item_id=item.id, bank_id=bank.id, version_id=version.id, number=version.number,
        current_version=item.current_version, type=version.type, points=version.points,
        category=cat.name if cat else "", tags=[t.name for t in item.tags], content=content,
        key=key, locked=is_locked(session, version.id), archived=item.archived,
        updated_at=item.updated_at,
    )


def versions(session: Session, item: Item) -> list[ItemVersion]:
    return list(session.scalars(
        select(ItemVersion).where(ItemVersion.item_id == item.id).order_by(ItemVersion.number)))


def list_items(
    session: Session,
    bank: Bank,
    *,
    category_id: int | None = None,
    tag: str | None = None,
    item_type: str | None = None,
    text: str | None = None,
    archived: bool = False,
) -> list[ItemData]:
    """Items of a bank, opened. Text search runs on the opened text (it is sealed at rest)."""
    query = select(Item).where(Item.bank_id == bank.id, Item.archived.is_(archived))
    if category_id:
        query = query.where(Item.category_id == category_id)
    if item_type:
        query = query.where(Item.type == item_type)
    if tag:
        query = query.where(Item.id.in_(
            select(ItemTag.item_id).join(Tag, Tag.id == ItemTag.tag_id).where(
                Tag.bank_id == bank.id, Tag.name == tag)))
    out = [item_data(session, item) for item in session.scalars(query.order_by(Item.id))]
    if text:
        needle = text.casefold()
        out = [d for d in out if needle in to_plain(" ".join(html_fields(d.content, d.key)))
               .casefold() or needle in d.content.title.casefold()]
    return out
