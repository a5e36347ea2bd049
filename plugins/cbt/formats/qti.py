"""QTI 2.1 content packages: a zip with ``imsmanifest.xml`` and one XML file per item.

Import reads choice (single and multiple response, and true/false when the choices are
``TRUE``/``FALSE``), text entry (short answer; numeric when the response is a float or
integer, with the tolerance of an ``equal`` rule), extended text (essay) and match
interactions, with images inside the package. XML is parsed with defusedxml (no entity
expansion, no external entities) and the zip through :mod:`plugins.cbt.formats.package`
(no zip bombs, no paths outside the package).

Problems are reported with ``line`` = the item's position in the manifest (1, 2, ...) and
the file name in the message; a package-wide problem has line 0.

Export writes what QTI 2.1 carries: title, stem, options, the key with weights (as a
``mapping``), case sensitivity of short answers, numeric tolerance, points (``MAXSCORE``),
general feedback (``modalFeedback``) and images. The stem is wrapped in
``<div class="ruang-stem">`` so that a round trip gives back exactly the stem.
"""

from __future__ import annotations

import html
import io
import xml.etree.ElementTree as ET  # for writing only; parsing goes through defusedxml
import zipfile
from collections.abc import Callable, Sequence
from html.parser import HTMLParser
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as parse_xml

from plugins.cbt.content import (
    Accepted,
    Choice,
    ItemContent,
    ItemDraft,
    ItemKey,
    MatchAnswer,
    MatchPrompt,
    NumericAnswer,
    choice_ids,
)
from plugins.cbt.formats import Entry, Parsed, rich
from plugins.cbt.formats.package import PackageError, read_zip, resolve
from plugins.cbt.richtext import IMAGE_TYPES, RichTextError, rewrite_images, sniff_image

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
RP = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
INTERACTIONS = {"choiceInteraction", "textEntryInteraction", "extendedTextInteraction",
                "matchInteraction"}
UNSUPPORTED = {"orderInteraction", "associateInteraction", "gapMatchInteraction",
               "inlineChoiceInteraction", "hottextInteraction", "hotspotInteraction",
               "selectPointInteraction", "graphicOrderInteraction", "sliderInteraction",
               "uploadInteraction", "drawingInteraction", "mediaInteraction",
               "customInteraction", "positionObjectInteraction", "endAttemptInteraction",
               "graphicAssociateInteraction", "graphicGapMatchInteraction"}
VOID = {"img", "br", "hr"}
_HTML_ATTRS = {"src", "alt", "width", "height", "dir", "lang", "colspan", "rowspan", "class",
               "title", "start", "type", "scope"}


class QtiError(ValueError):
    pass


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c.tag) == name]


def _first(el: Any, name: str) -> Any | None:
    for c in el.iter():
        if _local(c.tag) == name:
            return c
    return None


# -- XML to HTML --------------------------------------------------------------------------


def _inner(el: Any, replace: Callable[[Any], str | None] | None = None) -> str:
    """The content of ``el`` as HTML; ``replace(child)`` may substitute a child (or drop it
    with ``""``); QTI-only elements keep their content but lose their tag."""
    out = [html.escape(el.text or "", quote=False)]
    for child in el:
        out.append(_outer(child, replace))
        out.append(html.escape(child.tail or "", quote=False))
    return "".join(out)


def _outer(el: Any, replace: Callable[[Any], str | None] | None) -> str:
    if replace is not None:
        sub = replace(el)
        if sub is not None:
            return sub
    tag = _local(el.tag)
    if tag in ("prompt", "rubricBlock", "feedbackInline", "feedbackBlock", "modalFeedback",
               "templateInline", "templateBlock"):
        return ""
    if tag in INTERACTIONS or tag in UNSUPPORTED:
        return ""
    attrs = "".join(f' {_local(k)}="{html.escape(v, quote=True)}"' for k, v in el.attrib.items()
                    if _local(k) in _HTML_ATTRS)
    if tag in VOID:
        return f"<{tag}{attrs}>"
    if tag in ("object", "math"):
        return ""
    return f"<{tag}{attrs}>{_inner(el, replace)}</{tag}>"


# -- import -------------------------------------------------------------------------------


def _values(el: Any | None) -> list[str]:
    if el is None:
        return []
    return [(v.text or "").strip() for v in _children(el, "value")]


def _mapping(decl: Any) -> tuple[dict[str, float], dict[str, bool]]:
    mapping = _first(decl, "mapping")
    values: dict[str, float] = {}
    case: dict[str, bool] = {}
    if mapping is None:
        return values, case
    for entry in _children(mapping, "mapEntry"):
        key = entry.get("mapKey", "")
        try:
            values[key] = float(entry.get("mappedValue", "0"))
        except ValueError:
            raise QtiError(f"mapEntry {key!r} has a mappedValue that is not a number") from None
        case[key] = entry.get("caseSensitive", "true").lower() != "false"
    return values, case


def _template(root: Any) -> str:
    rp = _first(root, "responseProcessing")
    if rp is None:
        return ""
    return str(rp.get("template", "")).rsplit("/", 1)[-1]


def _points(root: Any, default: float = 1.0) -> float:
    for decl in _children(root, "outcomeDeclaration"):
        if decl.get("identifier") == "MAXSCORE":
            vals = _values(_first(decl, "defaultValue"))
            if vals:
                try:
                    value = float(vals[0])
                except ValueError:
                    raise QtiError("MAXSCORE is not a number") from None
                if value > 0:
                    return value
    return default


def _tolerance(root: Any, value: float) -> float:
    equal = _first(root, "equal")
    if equal is None:
        return 0.0
    mode = equal.get("toleranceMode", "exact")
    parts = (equal.get("tolerance") or "0").split()
    try:
        tol = max(abs(float(p)) for p in parts) if parts else 0.0
    except ValueError:
        raise QtiError("the tolerance of an equal rule is not a number") from None
    if mode == "absolute":
        return tol
    if mode == "relative":
        return abs(value) * tol / 100
    return 0.0


def _item(root: Any, href: str, members: dict[str, bytes]) -> ItemDraft:
    if _local(root.tag) != "assessmentItem":
        raise QtiError(f"the root element is {_local(root.tag)}, not assessmentItem")
    files: dict[str, tuple[str, bytes]] = {}

    def resolve_image(src: str) -> str | None:
        if "://" in src or src.startswith("data:"):
            return None
        name = resolve(href, src)
        if name is None:
            raise RichTextError(f"image {src!r} points outside the package")
        if name not in members:
            raise RichTextError(f"image {src!r} is not in the package")
        data = members[name]
        mime = sniff_image(data)
        if mime is None:
            raise RichTextError(f"{name} is not a PNG, JPEG, GIF or WebP image")
        short = name.rsplit("/", 1)[-1]
        while short in files and files[short][1] != data:
            short = "_" + short
        files[short] = (mime, data)
        return short

    def h(fragment: str) -> str:
        return rich(fragment, files, resolve_image)

    body = _first(root, "itemBody")
    if body is None:
        raise QtiError("the item has no itemBody")
    found = [el for el in body.iter() if _local(el.tag) in INTERACTIONS | UNSUPPORTED]
    unsupported = sorted({_local(el.tag) for el in found if _local(el.tag) in UNSUPPORTED})
    if unsupported:
        raise QtiError(f"{', '.join(unsupported)} is not supported (Ruang reads choice, text "
                       "entry, extended text and match interactions)")
    if len(found) != 1:
        raise QtiError(f"the item has {len(found)} interactions; Ruang reads items with one")
    inter = found[0]
    kind = _local(inter.tag)
    decls = {d.get("identifier"): d for d in _children(root, "responseDeclaration")}
    decl = decls.get(inter.get("responseIdentifier"))
    if decl is None:
        raise QtiError(f"no responseDeclaration for {inter.get('responseIdentifier')!r}")

    marked = [el for el in body.iter() if _local(el.tag) == "div" and
              "ruang-stem" in (el.get("class") or "").split()]
    if marked:
        stem = _inner(marked[0])
    else:
        stem = _inner(body, lambda el: " _____ " if el is inter and kind ==
                      "textEntryInteraction" else None)
        prompt = _first(inter, "prompt")
        if prompt is not None:
            stem += _inner(prompt)
    content = ItemContent(stem=h(stem), title=_title(root))
    key = ItemKey()
    feedback = [m for m in _children(root, "modalFeedback")]
    if feedback:
        key.general_feedback = h(_inner(feedback[0]))
    correct = _values(_first(decl, "correctResponse"))
    mapped, case = _mapping(decl)
    template = _template(root)

    if kind == "choiceInteraction":
        source = _children(inter, "simpleChoice")
        if len(source) < 2:
            raise QtiError("a choice interaction needs at least two simpleChoice")
        idents = [c.get("identifier", "") for c in source]
        upper = {i.upper() for i in idents}
        if upper == {"TRUE", "FALSE"} and inter.get("maxChoices", "1") == "1":
            if len(correct) != 1:
                raise QtiError("a true/false item needs one correct value")
            key.truth = correct[0].upper() == "TRUE"
            return _draft("truefalse", content, key, root, files)
        ids = choice_ids(len(source))
        by_ident = dict(zip(idents, ids, strict=True))
        content.choices = [Choice(id=cid, html=h(_inner(c))) for cid, c in
                           zip(ids, source, strict=True)]
        unknown = [c for c in [*correct, *mapped] if c not in by_ident]
        if unknown:
            raise QtiError(f"the key names choices that do not exist: {', '.join(unknown)}")
        single = inter.get("maxChoices", "1") == "1"
        if single:
            if len(correct) != 1:
                raise QtiError("a single-choice item needs exactly one correct value")
            scale = mapped.get(correct[0]) or 1.0
            weights = {by_ident[k]: v / scale for k, v in mapped.items() if v}
            weights[by_ident[correct[0]]] = 1.0
            key.weights = weights
            return _draft("single", content, key, root, files)
        if mapped and any(v > 0 for v in mapped.values()):
            total = sum(v for v in mapped.values() if v > 0)
            key.weights = {by_ident[k]: round(v / total, 6) for k, v in mapped.items() if v}
        elif correct:
            key.weights = {by_ident[c]: round(1 / len(correct), 6) for c in correct}
        else:
            raise QtiError("the item has no correct response")
        key.scoring = "partial" if template != "match_correct" and mapped else "all_or_nothing"
        return _draft("multiple", content, key, root, files)

    if kind == "textEntryInteraction":
        base = decl.get("baseType", "string")
        if base in ("float", "integer"):
            if not correct:
                raise QtiError("a numeric item needs a correct value")
            try:
                value = float(correct[0])
            except ValueError:
                raise QtiError(f"the correct value {correct[0]!r} is not a number") from None
            key.numbers = [NumericAnswer(value=value, tolerance=_tolerance(root, value))]
            return _draft("numeric", content, key, root, files)
        if mapped:
            top = max(mapped.values()) or 1.0
            key.accepted = [Accepted(text=k, fraction=round(v / top, 6))
                            for k, v in mapped.items() if k]
            key.case_sensitive = any(case.values())
        else:
            key.accepted = [Accepted(text=c) for c in correct if c]
            key.case_sensitive = True  # QTI's match_correct compares strings exactly
        return _draft("short", content, key, root, files)

    if kind == "extendedTextInteraction":
        return _draft("essay", content, key, root, files)

    sets = _children(inter, "simpleMatchSet")
    if len(sets) != 2:
        raise QtiError("a match interaction needs two simpleMatchSet")
    left = _children(sets[0], "simpleAssociableChoice")
    right = _children(sets[1], "simpleAssociableChoice")
    lids = {c.get("identifier"): f"p{i + 1}" for i, c in enumerate(left)}
    rids = {c.get("identifier"): f"a{i + 1}" for i, c in enumerate(right)}
    content.prompts = [MatchPrompt(id=lids[c.get("identifier")], html=h(_inner(c))) for c in left]
    content.answers = [MatchAnswer(id=rids[c.get("identifier")], html=h(_inner(c))) for c in right]
    for pair in correct:
        parts = pair.split()
        if len(parts) != 2 or parts[0] not in lids or parts[1] not in rids:
            raise QtiError(f"the correct pair {pair!r} names entries that do not exist")
        key.pairs[lids[parts[0]]] = rids[parts[1]]
    key.scoring = "partial" if template != "match_correct" and mapped else "all_or_nothing"
    return _draft("matching", content, key, root, files)


def _title(root: Any) -> str:
    title = (root.get("title") or "").strip()
    return "" if title == root.get("identifier") else title[:300]


def _draft(item_type: str, content: ItemContent, key: ItemKey, root: Any,
           files: dict[str, tuple[str, bytes]]) -> ItemDraft:
    return ItemDraft(type=item_type, content=content, key=key,  # type: ignore[arg-type]
                     points=_points(root), files=files)


def parse(data: bytes) -> Parsed:
    result = Parsed()
    try:
        members = read_zip(data)
    except PackageError as exc:
        result.problem(0, str(exc))
        return result
    manifest_name = next((n for n in members if n.lower() == "imsmanifest.xml"), None)
    if manifest_name is None:
        result.problem(0, "the package has no imsmanifest.xml at its top level")
        return result
    try:
        manifest = parse_xml(members[manifest_name], forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        result.problem(0, f"imsmanifest.xml is not valid XML: {exc}")
        return result
    resources = [r for r in manifest.iter() if _local(r.tag) == "resource"
                 and str(r.get("type", "")).startswith("imsqti_item_xmlv2")]
    if not resources:
        result.problem(0, "the manifest lists no QTI 2 items (resource type imsqti_item_xmlv2p1)")
    for number, res in enumerate(resources, start=1):
        href = resolve("imsmanifest.xml", res.get("href", ""))
        if href is None or href not in members:
            result.problem(number, f"{res.get('href')!r}: the item file is not in the package")
            continue
        try:
            root = parse_xml(members[href], forbid_dtd=True)
            draft = _item(root, href, members)
        except (ParseError, DefusedXmlException) as exc:
            result.problem(number, f"{href}: not valid XML: {exc}")
            continue
        except (QtiError, RichTextError) as exc:
            result.problem(number, f"{href}: {exc}")
            continue
        except ValueError as exc:
            from plugins.cbt.formats.gift import _pydantic_message

            result.problem(number, f"{href}: {_pydantic_message(exc)}")
            continue
        result.entries.append(Entry(number, draft))
    return result


# -- export -------------------------------------------------------------------------------


def q(tag: str) -> str:
    # Unqualified names under an explicit xmlns on the root: ElementTree's own namespace
    # handling would need a global prefix registry.
    return tag


class _HtmlToXml(HTMLParser):
    """Our sanitised HTML (HTML5 serialisation) as XHTML elements in the QTI namespace."""

    def __init__(self, parent: ET.Element) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [parent]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = ET.SubElement(self.stack[-1], q(tag),
                           {k: v or "" for k, v in attrs if k in _HTML_ATTRS})
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ET.SubElement(self.stack[-1], q(tag), {k: v or "" for k, v in attrs if k in _HTML_ATTRS})

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == q(tag):
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        parent = self.stack[-1]
        if len(parent):
            last = parent[-1]
            last.tail = (last.tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def _append_html(parent: ET.Element, fragment: str) -> ET.Element:
    conv = _HtmlToXml(parent)
    conv.feed(fragment)
    conv.close()
    return parent


def _value(parent: ET.Element, text: str) -> None:
    ET.SubElement(parent, q("value")).text = text


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _item_xml(draft: ItemDraft, ident: str, image_href: Callable[[str], str | None]) -> bytes:
    c, k, t = draft.content, draft.key, draft.type

    def html_of(fragment: str) -> str:
        return rewrite_images(fragment, image_href)

    root = ET.Element(q("assessmentItem"), {
        "xmlns": QTI_NS, "identifier": ident, "title": c.title or ident, "adaptive": "false",
        "timeDependent": "false",
    })
    cardinality = {"multiple": "multiple", "matching": "multiple"}.get(t, "single")
    base = {"single": "identifier", "multiple": "identifier", "truefalse": "identifier",
            "matching": "directedPair", "numeric": "float"}.get(t, "string")
    decl = ET.SubElement(root, q("responseDeclaration"), {
        "identifier": "RESPONSE", "cardinality": cardinality, "baseType": base})
    mapping_entries: list[tuple[str, float, bool | None]] = []
    if t in ("single", "multiple"):
        correct = [cid for cid, w in k.weights.items() if w > 0] if t == "multiple" else \
            [cid for cid, w in k.weights.items() if abs(w - 1) < 1e-9]
        mapping_entries = [(cid, w, None) for cid, w in k.weights.items()]
    elif t == "truefalse":
        correct = ["TRUE" if k.truth else "FALSE"]
    elif t == "short":
        correct = [a.text for a in k.accepted if a.fraction >= 1 - 1e-9]
        mapping_entries = [(a.text, a.fraction, k.case_sensitive) for a in k.accepted]
    elif t == "numeric":
        best = max(k.numbers, key=lambda n: n.fraction)
        correct = [_fmt(best.value)]
    elif t == "matching":
        correct = [f"{p} {a}" for p, a in k.pairs.items()]
        share = 1 / max(1, len(k.pairs))
        mapping_entries = [(pair, share, None) for pair in correct]
    else:
        correct = []
    if correct:
        cr = ET.SubElement(decl, q("correctResponse"))
        for value in correct:
            _value(cr, value)
    if mapping_entries:
        mapping = ET.SubElement(decl, q("mapping"), {"defaultValue": "0", "lowerBound": "0"})
        for mkey, val, case in mapping_entries:
            attrs = {"mapKey": mkey, "mappedValue": _fmt(val)}
            if case is not None:
                attrs["caseSensitive"] = "true" if case else "false"
            ET.SubElement(mapping, q("mapEntry"), attrs)
    for ident_, default in (("SCORE", None), ("MAXSCORE", draft.points)):
        out = ET.SubElement(root, q("outcomeDeclaration"), {
            "identifier": ident_, "cardinality": "single", "baseType": "float"})
        if default is not None:
            _value(ET.SubElement(out, q("defaultValue")), _fmt(default))
    if k.general_feedback:
        ET.SubElement(root, q("outcomeDeclaration"), {
            "identifier": "FEEDBACK", "cardinality": "single", "baseType": "identifier"})

    body = ET.SubElement(root, q("itemBody"))
    _append_html(ET.SubElement(body, q("div"), {"class": "ruang-stem"}), html_of(c.stem))
    if t in ("single", "multiple", "truefalse"):
        inter = ET.SubElement(body, q("choiceInteraction"), {
            "responseIdentifier": "RESPONSE", "shuffle": "true",
            "maxChoices": "0" if t == "multiple" else "1"})
        if t == "truefalse":
            ET.SubElement(inter, q("simpleChoice"), {"identifier": "TRUE"}).text = "True"
            ET.SubElement(inter, q("simpleChoice"), {"identifier": "FALSE"}).text = "False"
        for ch in c.choices:
            _append_html(ET.SubElement(inter, q("simpleChoice"), {"identifier": ch.id}),
                         html_of(ch.html))
    elif t in ("short", "numeric"):
        para = ET.SubElement(body, q("p"))
        ET.SubElement(para, q("textEntryInteraction"), {
            "responseIdentifier": "RESPONSE", "expectedLength": "20"})
    elif t == "essay":
        ET.SubElement(body, q("extendedTextInteraction"), {
            "responseIdentifier": "RESPONSE", "expectedLines": "10"})
    elif t == "matching":
        inter = ET.SubElement(body, q("matchInteraction"), {
            "responseIdentifier": "RESPONSE", "shuffle": "true",
            "maxAssociations": str(len(c.prompts))})
        left = ET.SubElement(inter, q("simpleMatchSet"))
        for p in c.prompts:
            _append_html(ET.SubElement(left, q("simpleAssociableChoice"), {
                "identifier": p.id, "matchMax": "1"}), html_of(p.html))
        right = ET.SubElement(inter, q("simpleMatchSet"))
        for a in c.answers:
            _append_html(ET.SubElement(right, q("simpleAssociableChoice"), {
                "identifier": a.id, "matchMax": str(len(c.prompts))}), html_of(a.html))

    if t == "numeric":
        best = max(k.numbers, key=lambda n: n.fraction)
        rp = ET.SubElement(root, q("responseProcessing"))
        cond = ET.SubElement(ET.SubElement(rp, q("responseCondition")), q("responseIf"))
        eq = ET.SubElement(cond, q("equal"), {
            "toleranceMode": "absolute", "tolerance": f"{_fmt(best.tolerance)} "
                                                      f"{_fmt(best.tolerance)}"})
        ET.SubElement(eq, q("variable"), {"identifier": "RESPONSE"})
        ET.SubElement(eq, q("correct"), {"identifier": "RESPONSE"})
        ET.SubElement(ET.SubElement(cond, q("setOutcomeValue"), {"identifier": "SCORE"}),
                      q("variable"), {"identifier": "MAXSCORE"})
    elif t != "essay":
        partial = t in ("short", "matching") or (t == "multiple" and k.scoring == "partial")
        if t == "matching" and k.scoring == "all_or_nothing":
            partial = False
        ET.SubElement(root, q("responseProcessing"), {
            "template": RP + ("map_response" if partial else "match_correct")})
    if k.general_feedback:
        fb = ET.SubElement(root, q("modalFeedback"), {
            "outcomeIdentifier": "FEEDBACK", "identifier": "GENERAL", "showHide": "show"})
        _append_html(fb, html_of(k.general_feedback))
    # No ET.indent: whitespace added inside the stem would change it on the way back.
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def export(drafts: Sequence[tuple[int, ItemDraft]],
           asset: Callable[[int], tuple[str, bytes]]) -> bytes:
    """A content package of ``(item id, draft)`` pairs, images included."""
    from plugins.cbt.bank import asset_id

    buf = io.BytesIO()
    manifest = ET.Element("manifest", {"xmlns": CP_NS, "identifier": "ruang-export"})
    meta = ET.SubElement(manifest, "metadata")
    ET.SubElement(meta, "schema").text = "QTIv2.1 Package"
    ET.SubElement(meta, "schemaversion").text = "1.0.0"
    ET.SubElement(manifest, "organizations")
    resources = ET.SubElement(manifest, "resources")
    written: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for item_id, draft in drafts:
            ident = f"ruang-item-{item_id}"
            href = f"items/{ident}.xml"
            images: list[str] = []

            def image_href(src: str, images: list[str] = images) -> str | None:
                aid = asset_id(src)
                if aid is None:
                    return None
                mime, data = asset(aid)
                name = f"images/asset-{aid}.{IMAGE_TYPES.get(mime, 'bin')}"
                if name not in written:
                    zf.writestr(name, data)
                    written.add(name)
                images.append(name)
                return "../" + name

            zf.writestr(href, _item_xml(draft, ident, image_href))
            res = ET.SubElement(resources, "resource", {
                "identifier": f"res-{ident}", "type": "imsqti_item_xmlv2p1", "href": href})
            ET.SubElement(res, "file", {"href": href})
            for name in dict.fromkeys(images):
                ET.SubElement(res, "file", {"href": name})
        ET.indent(manifest)
        zf.writestr("imsmanifest.xml", ET.tostring(manifest, encoding="utf-8",
                                                   xml_declaration=True))
    return buf.getvalue()

