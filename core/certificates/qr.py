"""QR codes of certificates: the PNG printed on the paper."""

from __future__ import annotations

from io import BytesIO

import qrcode
from qrcode.image.pil import PilImage


def png(text: str, *, box_size: int = 10, border: int = 2) -> bytes:
    """``text`` as a QR code in a PNG, ready for fpdf2's ``image()``."""
    image = qrcode.make(text, box_size=box_size, border=border, image_factory=PilImage)
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()

