"""An essay's scored rubric typed in the item editor: criteria with point levels, kept
with the item and shown back for editing; a malformed line is refused with its number."""

from __future__ import annotations

from plugins.cbt import bank as service


def test_essay_rubric_in_the_editor(db, login):
    with db.transaction() as session:
        bank_id = service.create_bank(session, "Pancasila").id
    staff = login("wdm")
    form = {"type": "essay", "category": "Esai", "points": "4", "stem": "Jelaskan sila pertama.",
            "rubric": "Lihat buku ajar.",
            "criteria": "Isi: kosong = 0; sebagian = 1; lengkap = 2\n"
                        "Bahasa: kurang = 0; cukup = 1,5; baik = 2"}
    resp = staff.post(f"/cbt/banks/{bank_id}/items/new", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with db.session() as session:
        bank = service.bank_by_name(session, "Pancasila")
        assert bank is not None
        (data,) = service.list_items(session, bank)
    assert [c.title for c in data.key.criteria] == ["Isi", "Bahasa"]
    assert [lv.points for lv in data.key.criteria[1].levels] == [0, 1.5, 2]
    page = staff.get(f"/cbt/items/{data.item_id}").get_data(as_text=True)
    assert "Bahasa: kurang = 0; cukup = 1.5; baik = 2" in page

    bad = dict(form, criteria="Isi: kosong = 0; lengkap = dua")
    page = staff.post(f"/cbt/banks/{bank_id}/items/new", bad).get_data(as_text=True)
    assert "rubric line 1" in page
    short = dict(form, criteria="Isi: kosong = 0; lengkap = 2")
    page = staff.post(f"/cbt/banks/{bank_id}/items/new", short).get_data(as_text=True)
    assert "add up to 2 points, the item is worth 4" in page
