"""Items of every type, as drafts, shared by the CBT tests."""

from __future__ import annotations

from plugins.cbt.content import (
    Accepted,
    Choice,
    ItemContent,
    ItemDraft,
    ItemKey,
    MatchAnswer,
    MatchPrompt,
    NumericAnswer,
)

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def single(stem: str = "Ibu kota Indonesia adalah?", category: str = "Umum") -> ItemDraft:
    return ItemDraft(
        type="single", category=category, tags=["geografi"], points=2,
        content=ItemContent(stem=stem, choices=[
            Choice(id="a", html="Jakarta"), Choice(id="b", html="Bandung"),
            Choice(id="c", html="Surabaya"), Choice(id="d", html="Medan")]),
        key=ItemKey(weights={"a": 1.0}, feedback={"a": "Benar."},
                    general_feedback="Sejak 1945."),
    )


def multiple() -> ItemDraft:
    return ItemDraft(
        type="multiple", category="Umum",
        content=ItemContent(stem="Pilih bilangan prima.", choices=[
            Choice(id="a", html="2"), Choice(id="b", html="3"), Choice(id="c", html="4"),
            Choice(id="d", html="9")]),
        key=ItemKey(weights={"a": 0.5, "b": 0.5, "c": -0.5, "d": -0.5}),
    )


def truefalse() -> ItemDraft:
    return ItemDraft(type="truefalse", category="Umum",
                     content=ItemContent(stem="Matahari terbit di timur."),
                     key=ItemKey(truth=True, feedback={"false": "Lihat kompas."}))


def short() -> ItemDraft:
    return ItemDraft(
        type="short", category="Bahasa",
        content=ItemContent(stem="Ibu kota Jawa Barat?"),
        key=ItemKey(accepted=[Accepted(text="Bandung"), Accepted(text="Kota Bandung",
                                                                 fraction=0.5)]),
    )


def numeric() -> ItemDraft:
    return ItemDraft(type="numeric", category="Matematika",
                     content=ItemContent(stem="Nilai \\(\\pi\\) sampai dua desimal?"),
                     key=ItemKey(numbers=[NumericAnswer(value=3.14, tolerance=0.005)]))


def matching() -> ItemDraft:
    return ItemDraft(
        type="matching", category="Umum",
        content=ItemContent(
            stem="Pasangkan negara dan ibu kotanya.",
            prompts=[MatchPrompt(id="p1", html="Indonesia"), MatchPrompt(id="p2", html="Jepang"),
                     MatchPrompt(id="p3", html="Mesir")],
            answers=[MatchAnswer(id="a1", html="Jakarta"), MatchAnswer(id="a2", html="Tokyo"),
                     MatchAnswer(id="a3", html="Kairo"), MatchAnswer(id="a4", html="Roma")]),
        key=ItemKey(pairs={"p1": "a1", "p2": "a2", "p3": "a3"}),
    )


def essay() -> ItemDraft:
    return ItemDraft(type="essay", category="Esai",
                     content=ItemContent(stem="Jelaskan sila pertama Pancasila.", max_words=200),
                     key=ItemKey(rubric="Menyebut Ketuhanan Yang Maha Esa: 50%."))


def arabic() -> ItemDraft:
    return ItemDraft(
        type="single", category="Bahasa Arab",
        content=ItemContent(stem="<p dir=\"rtl\">ما عاصمة مصر؟</p>", choices=[
            Choice(id="a", html="القاهرة"), Choice(id="b", html="الإسكندرية")]),
        key=ItemKey(weights={"a": 1.0}),
    )


def with_image() -> ItemDraft:
    return ItemDraft(
        type="single", category="Gambar",
        content=ItemContent(stem='Bentuk apa ini? <img src="cbt-file:shape.png" alt="shape">',
                            choices=[Choice(id="a", html="Titik"), Choice(id="b", html="Garis")]),
        key=ItemKey(weights={"a": 1.0}),
        files={"shape.png": ("image/png", PNG)},
    )


ALL = [single, multiple, truefalse, short, numeric, matching, essay]


def layout() -> ItemDraft:
    return ItemDraft(
        type="short", category="Umum",
        content=ItemContent(stem="<p>Perhatikan tabel.</p><p>Isi <b>sel</b> kosong:</p>"
                                 "<table><tbody><tr><td>1</td><td>?</td></tr></tbody></table>"),
        key=ItemKey(accepted=[Accepted(text="2")], case_sensitive=True),
    )
