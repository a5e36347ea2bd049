"""An item as the candidate sees it: the HTML of staff's live preview and of review pages.

The kiosk (``kiosk/``) renders the same structure from the decrypted paper, with the same
class names and ``static/cbt/item.css``, so what staff preview is what candidates get.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template
from markupsafe import Markup

from plugins.cbt.bank import asset_id
from plugins.cbt.content import ItemContent, ItemKey
from plugins.cbt.richtext import rewrite_images


def with_image_urls(fragment: str, url_for_asset: Callable[[int], str]) -> str:
    def rewrite(src: str) -> str | None:
        aid = asset_id(src)
        return url_for_asset(aid) if aid is not None else None

    return rewrite_images(fragment, rewrite)


def render_item(
    item_type: str,
    content: ItemContent,
    url_for_asset: Callable[[int], str],
    *,
    number: int = 1,
    option_order: list[str] | None = None,
    answer_order: list[str] | None = None,
    key: ItemKey | None = None,
) -> Markup:
    """The candidate's view of one item; with ``key``, the correct answers are marked."""

    def h(fragment: str) -> Markup:
        return Markup(with_image_urls(fragment, url_for_asset))  # noqa: S704 - sanitised HTML

    choices = {c.id: c for c in content.choices}
    order = [cid for cid in (option_order or []) if cid in choices] or list(choices)
    answers = {a.id: a for a in content.answers}
    a_order = [aid for aid in (answer_order or []) if aid in answers] or list(answers)
    return Markup(render_template(  # noqa: S704 - a template of ours, autoescaped
        "cbt/_item_view.html", type=item_type, content=content, h=h, number=number,
        choices=[choices[c] for c in order], answers=[answers[a] for a in a_order], key=key,
    ))
