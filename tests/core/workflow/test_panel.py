"""A plugin page shows the workflow panel: state, the buttons the user may press, history."""

from __future__ import annotations

import re
from typing import Any

from tests.core.workflow.toy import PROPOSAL, Proposal


def _new(db: Any, users: dict[str, Any]) -> int:
    with db.transaction() as s:
        p = Proposal(title="Ujian CBT Statistika", created_by=users["pemohon"].id)
        PROPOSAL.start(s, p, users["pemohon"])
        return p.id


def _buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit" name="action" value="([a-z_]+)"', html)


def test_panel_shows_buttons_for_the_user_and_moves_the_object(login, db, users):
    pid = _new(db, users)
    requester = login("pemohon")
    html = requester.get(f"/toy/{pid}").get_data(as_text=True)
    assert 'data-state="draft"' in html and _buttons(html) == ["submit"]
    assert "Riwayat" in html and "Dibuat" in html  # Indonesian by default

    resp = requester.post(f"/toy/{pid}/workflow", {"action": "submit", "comment": "mohon"})
    assert resp.status_code == 302
    html = requester.get(f"/toy/{pid}").get_data(as_text=True)
    assert 'data-state="submitted"' in html and _buttons(html) == []
    assert "Tidak ada yang perlu Anda lakukan" in html
    assert "mohon" in html

    head = login("kabpti")
    html = head.get(f"/toy/{pid}").get_data(as_text=True)
    assert _buttons(html) == ["approve", "reject"]
    # The action's label may be translated by any plugin's catalogue ("Reject" -> "Tolak").
    assert "wajib untuk:" in html

    resp = head.post(f"/toy/{pid}/workflow", {"action": "reject"})
    assert resp.status_code == 409
    assert "without a comment" in resp.get_data(as_text=True)
    resp = head.post(f"/toy/{pid}/workflow", {"action": "approve"})
    assert resp.status_code == 302
    html = head.get(f"/toy/{pid}").get_data(as_text=True)
    steps = re.findall(r'<li data-action="([a-z_]+)"', html)
    assert steps == ["start", "submit", "approve"]
    assert re.search(r"(Submitted|Diajukan) → (Approved|Disetujui)", html)


def test_panel_refuses_what_the_user_may_not_do(login, db, users):
    pid = _new(db, users)
    candidate = login("peserta")
    resp = candidate.post(f"/toy/{pid}/workflow", {"action": "submit"})
    assert resp.status_code == 403
    assert "needs role owner" in resp.get_data(as_text=True)
    resp = candidate.post(f"/toy/{pid}/workflow", {"action": "Submit; DROP"})
    assert resp.status_code == 400 and "bad workflow form" in resp.get_data(as_text=True)
    resp = candidate.post(f"/toy/{pid}/workflow", {"action": "approve"})
    assert resp.status_code == 409
    with db.session() as s:
        assert s.get(Proposal, pid).state == "draft"


def test_panel_of_a_finished_process(login, db, users):
    pid = _new(db, users)
    admin = users["admin"]
    with db.transaction() as s:
        p = s.get(Proposal, pid)
        for action in ("submit", "approve", "prepare", "hold", "document"):
            PROPOSAL.apply(s, p, action, admin)
    html = login("pemohon").get(f"/toy/{pid}").get_data(as_text=True)
    assert "Proses ini sudah selesai." in html and _buttons(html) == []
    assert 'class="badge ok"' in html
