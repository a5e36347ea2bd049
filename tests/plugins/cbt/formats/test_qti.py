"""QTI 2.1 packages: the four interactions with images, unsafe archives refused, round trip."""

from __future__ import annotations

import io
import zipfile

from plugins.cbt import bank as service
from plugins.cbt import formats
from plugins.cbt.richtext import image_sources
from tests.plugins.cbt import samples
from tests.plugins.cbt.formats.helpers import comparable, filled_bank, import_into

NS = 'xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1"'


def _item(ident: str, body: str, decl: str, extra: str = "", title: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<assessmentItem {NS} identifier="{ident}" '
            f'title="{title or ident}" adaptive="false" timeDependent="false">{decl}'
            f'<outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>'
            f"<itemBody>{body}</itemBody>{extra}</assessmentItem>")


CHOICE = _item(
    "choice1",
    '<p>Bentuk apa ini? <img src="../img/dot.png" alt="titik"/></p>'
    '<choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">'
    '<prompt>Pilih satu.</prompt><simpleChoice identifier="ChoiceA">Titik</simpleChoice>'
    '<simpleChoice identifier="ChoiceB">Garis</simpleChoice></choiceInteraction>',
    '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
    "<correctResponse><value>ChoiceA</value></correctResponse></responseDeclaration>",
    '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/'
    'match_correct"/>', title="Titik")
MULTI = _item(
    "multi1",
    '<choiceInteraction responseIdentifier="R" maxChoices="0"><prompt>Bilangan prima?</prompt>'
    '<simpleChoice identifier="A">2</simpleChoice><simpleChoice identifier="B">3</simpleChoice>'
    '<simpleChoice identifier="C">4</simpleChoice></choiceInteraction>',
    '<responseDeclaration identifier="R" cardinality="multiple" baseType="identifier">'
    "<correctResponse><value>A</value><value>B</value></correctResponse>"
    '<mapping defaultValue="0"><mapEntry mapKey="A" mappedValue="1"/>'
    '<mapEntry mapKey="B" mappedValue="1"/><mapEntry mapKey="C" mappedValue="-1"/></mapping>'
    "</responseDeclaration>")
TEXT = _item(
    "text1",
    '<p>Ibu kota Jawa Barat adalah <textEntryInteraction responseIdentifier="RESPONSE"/>.</p>',
    '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string">'
    "<correctResponse><value>Bandung</value></correctResponse>"
    '<mapping defaultValue="0"><mapEntry mapKey="Bandung" mappedValue="2" caseSensitive="false"/>'
    '<mapEntry mapKey="Kota Bandung" mappedValue="1" caseSensitive="false"/></mapping>'
    "</responseDeclaration>")
NUMBER = _item(
    "num1",
    '<p>Nilai pi? <textEntryInteraction responseIdentifier="RESPONSE"/></p>',
    '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="float">'
    "<correctResponse><value>3.14</value></correctResponse></responseDeclaration>",
    '<responseProcessing><responseCondition><responseIf><equal toleranceMode="absolute" '
    'tolerance="0.01 0.01"><variable identifier="RESPONSE"/><correct identifier="RESPONSE"/>'
    "</equal></responseIf></responseCondition></responseProcessing>")
ESSAY = _item(
    "essay1",
    '<p>Jelaskan fotosintesis.</p><extendedTextInteraction responseIdentifier="RESPONSE"/>',
    '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string"/>')
MATCH = _item(
    "match1",
    '<matchInteraction responseIdentifier="RESPONSE" shuffle="true" maxAssociations="2">'
    "<prompt>Pasangkan.</prompt><simpleMatchSet>"
    '<simpleAssociableChoice identifier="ID" matchMax="1">Indonesia</simpleAssociableChoice>'
    '<simpleAssociableChoice identifier="JP" matchMax="1">Jepang</simpleAssociableChoice>'
    "</simpleMatchSet><simpleMatchSet>"
    '<simpleAssociableChoice identifier="JKT" matchMax="2">Jakarta</simpleAssociableChoice>'
    '<simpleAssociableChoice identifier="TYO" matchMax="2">Tokyo</simpleAssociableChoice>'
    '<simpleAssociableChoice identifier="ROM" matchMax="2">Roma</simpleAssociableChoice>'
    "</simpleMatchSet></matchInteraction>",
    '<responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="directedPair">'
    "<correctResponse><value>ID JKT</value><value>JP TYO</value></correctResponse>"
    "</responseDeclaration>")


def package(items: dict[str, str], files: dict[str, bytes] | None = None,
            manifest: str | None = None) -> bytes:
    resources = "".join(
        f'<resource identifier="r{i}" type="imsqti_item_xmlv2p1" href="{name}">'
        f'<file href="{name}"/></resource>' for i, name in enumerate(items))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imsmanifest.xml", manifest or (
            '<?xml version="1.0"?><manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
            f'identifier="m"><organizations/><resources>{resources}</resources></manifest>'))
        for name, xml in items.items():
            zf.writestr(name, xml)
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_a_package_with_every_interaction_and_an_image_imports(db):
    data = package({"items/choice.xml": CHOICE, "items/multi.xml": MULTI,
                    "items/text.xml": TEXT, "items/num.xml": NUMBER, "items/essay.xml": ESSAY,
                    "items/match.xml": MATCH}, {"img/dot.png": samples.PNG})
    assert formats.detect("paket.zip", data) == "qti"
    bank, report = import_into(db, "QTI", data, "qti")
    assert report.problems == [] and report.imported == 6
    with db.session() as session:
        choice, multi, text, num, essay, match = service.list_items(session, bank)
        (src,) = image_sources(choice.content.stem)
        from plugins.cbt.models import Asset

        asset = session.get(Asset, service.asset_id(src))
        assert service.asset_bytes(session, asset) == samples.PNG
    assert choice.type == "single" and choice.content.title == "Titik"
    assert choice.content.stem.startswith("<p>Bentuk apa ini? <img")
    assert choice.content.stem.endswith("Pilih satu.")
    assert [c.html for c in choice.content.choices] == ["Titik", "Garis"]
    assert choice.key.weights == {"a": 1.0}
    assert multi.type == "multiple" and multi.key.scoring == "partial"
    assert multi.key.weights == {"a": 0.5, "b": 0.5, "c": -0.5}
    assert text.type == "short"
    assert text.content.stem == "<p>Ibu kota Jawa Barat adalah  _____ .</p>"
    assert [(a.text, a.fraction) for a in text.key.accepted] == [("Bandung", 1.0),
                                                                 ("Kota Bandung", 0.5)]
    assert text.key.case_sensitive is False
    assert num.type == "numeric" and (num.key.numbers[0].value, num.key.numbers[0].tolerance) \
        == (3.14, 0.01)
    assert essay.type == "essay" and essay.content.stem == "<p>Jelaskan fotosintesis.</p>"
    assert match.type == "matching" and match.key.pairs == {"p1": "a1", "p2": "a2"}
    assert [a.html for a in match.content.answers] == ["Jakarta", "Tokyo", "Roma"]
    assert match.key.scoring == "all_or_nothing"


def test_broken_items_are_reported_by_their_number_and_the_rest_imports():
    broken = MULTI.replace("<value>A</value>", "<value>Z</value>")
    order = _item("o", '<orderInteraction responseIdentifier="R"/>',
                  '<responseDeclaration identifier="R" cardinality="ordered" '
                  'baseType="identifier"/>')
    data = package({"a.xml": ESSAY, "b.xml": broken, "c.xml": "<assessmentItem", "d.xml": order,
                    "e.xml": CHOICE})
    report = formats.preview(data, "qti")
    messages = [(p.line, p.message.split(":")[0]) for p in report.problems]
    assert messages == [(2, "b.xml"), (3, "c.xml"), (4, "d.xml"), (5, "e.xml")]
    assert "the key names choices that do not exist: Z" in report.problems[0].message
    assert "not valid XML" in report.problems[1].message
    assert "orderInteraction is not supported" in report.problems[2].message
    assert "image '../img/dot.png' points outside the package" in report.problems[3].message
    assert [e.line for e in report.items] == [1]


def test_unsafe_packages_are_refused():
    traversal = package({"a.xml": ESSAY}, {"../../evil.txt": b"x"})
    report = formats.preview(traversal, "qti")
    assert report.items == [] and "unsafe file name" in report.problems[0].message

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("imsmanifest.xml", "<manifest/>")
        zf.writestr("big.bin", b"\0" * (30 * 1024 * 1024))
    report = formats.preview(bomb.getvalue(), "qti")
    assert report.items == [] and report.problems[0].line == 0
    assert "MB" in report.problems[0].message or "zip bomb" in report.problems[0].message

    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><manifest>&lol2;</manifest>')
    report = formats.preview(package({}, manifest=laughs), "qti")
    assert report.items == [] and "imsmanifest.xml is not valid XML" in report.problems[0].message

    report = formats.preview(b"PK\x03\x04 not really a zip", "qti")
    assert report.problems[0].message == "the file is not a zip archive (or it is damaged)"


def test_round_trip_through_qti_keeps_what_qti_carries(db):
    source = filled_bank(db)
    with db.session() as session:
        data = formats.export_bank(session, source, "qti")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
    assert "imsmanifest.xml" in names and any(n.startswith("images/asset-") for n in names)
    copy, report = import_into(db, "Salinan QTI", data, "qti")
    assert report.problems == []
    before, after = comparable(db, source), comparable(db, copy)
    for item in before:
        # A QTI item has no bank category or tags, no per-option feedback, no space rule,
        # no essay rubric or word limit, and one numeric answer.
        item["category"], item["tags"] = "", []
        item["key"]["feedback"] = {}
        item["key"]["spaces"] = "collapse"
        if item["type"] == "essay":
            item["key"]["rubric"], item["content"]["max_words"] = "", None
    assert after == before
