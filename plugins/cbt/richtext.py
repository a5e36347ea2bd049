"""Rich text of items: sanitised HTML with images, LaTeX and right-to-left text.

Everything an author, an import file or a form gives us goes through :func:`sanitize`
(nh3, the binding of the maintained Ammonia sanitiser) before it is stored, so a question
can never carry a script onto a kiosk. LaTeX stays as text between ``\\( \\)``, ``\\[ \\]``
or ``$$ $$`` and is typeset in the browser by KaTeX, served locally. Images are stored as
sealed bank assets and referred to as ``cbt-asset:<id>``; while an import is being
checked they are ``cbt-file:<name>`` (a file of the package not yet stored).
Direction: ``dir`` (``auto``, ``rtl``, ``ltr``) is kept on every element, and every block a
candidate sees is wrapped in ``dir="auto"`` when rendered, so Arabic reads right to left.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable

import nh3

ASSET_SCHEME = "cbt-asset"
FILE_SCHEME = "cbt-file"
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_HTML_CHARS = 200_000

TAGS = {
    "p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "sub", "sup", "small",
    "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
    "img", "code", "pre", "blockquote", "hr", "h3", "h4", "h5", "h6", "bdi", "bdo",
    "figure", "figcaption",
}
ATTRIBUTES = {
    "*": {"lang", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
}
DIRECTIONS = {"dir": {"auto", "rtl", "ltr"}}
_TAG_VALUES = {tag: DIRECTIONS for tag in TAGS}

_TAG_RE = re.compile(r"<[a-zA-Z/!][^>]*>")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r'\bsrc="([^"]*)"', re.IGNORECASE)
_DATA_URI = re.compile(r"^data:(image/[a-z+.-]+);base64,(.*)$", re.IGNORECASE | re.DOTALL)


class RichTextError(ValueError):
    """Text that cannot be stored: too long, or an image of a kind we do not keep."""


def sanitize(fragment: str, *, data_images: bool = False) -> str:
    """Keep the tags and attributes a question needs; drop scripts, styles, events, links.

    ``data_images`` keeps ``data:`` image sources so that an import can take them out
    into assets; stored text never has them.
    """
    if len(fragment) > MAX_HTML_CHARS:
        raise RichTextError(f"text is longer than {MAX_HTML_CHARS} characters")
    cleaned: str = nh3.clean(
        fragment,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        tag_attribute_values=_TAG_VALUES,
        url_schemes={ASSET_SCHEME, FILE_SCHEME, "https", "http",
                     *(["data"] if data_images else [])},
        link_rel=None,
        strip_comments=True,
    )
    return cleaned.strip()


def looks_like_html(text: str) -> bool:
    return bool(_TAG_RE.search(text))


def from_plain(text: str) -> str:
    """Plain text as HTML: escaped, line breaks kept."""
    return "<br>".join(html.escape(line, quote=False) for line in text.strip().split("\n"))


def to_html(text: str) -> str:
    """Text that may be HTML (GIFT, XLSX cells): sanitised HTML either way."""
    return sanitize(text if looks_like_html(text) else from_plain(text))


def to_plain(fragment: str) -> str:
    """A short plain-text rendering for lists and for formats without markup."""
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>", "\n", fragment, flags=re.IGNORECASE)
    text = _TAG_RE.sub("", text)
    return html.unescape(text).strip()


def image_sources(fragment: str) -> list[str]:
    out = []
    for m in _IMG_TAG.finditer(fragment):
        src = _SRC.search(m.group(0))
        if src is not None:
            out.append(html.unescape(src.group(1)))
    return out


def rewrite_images(fragment: str, rewrite: Callable[[str], str | None]) -> str:
    """Replace each ``<img src>`` by ``rewrite(src)``; ``None`` removes the image.

    Works on sanitised HTML, whose attributes are always double-quoted.
    """

    def sub(m: re.Match[str]) -> str:
        tag = m.group(0)
        src = _SRC.search(tag)
        if src is None:
            return ""
        new = rewrite(html.unescape(src.group(1)))
        if new is None:
            return ""
        return tag[: src.start(1)] + html.escape(new, quote=True) + tag[src.end(1) :]

    return _IMG_TAG.sub(sub, fragment)


def decode_data_uri(uri: str) -> tuple[str, bytes] | None:
    """``data:image/png;base64,...`` as (mime, bytes); ``None`` when it is not one."""
    m = _DATA_URI.match(uri.strip())
    if not m:
        return None
    mime = m.group(1).lower()
    try:
        data = base64.b64decode(re.sub(r"\s+", "", m.group(2)), validate=True)
    except (binascii.Error, ValueError):
        raise RichTextError("an embedded image is not valid base64") from None
    check_image(mime, data)
    return mime, data


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def sniff_image(data: bytes) -> str | None:
    """The image type from the file's first bytes (never trust a file name or header)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(mime: str | None, data: bytes) -> str:
    """The real type of an image we keep; raises for anything else (SVG can hold scripts)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise RichTextError(f"an image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    real = sniff_image(data)
    if real is None:
        raise RichTextError(
            f"an image is not PNG, JPEG, GIF or WebP (declared {mime or 'unknown'})"
        )
    return real
