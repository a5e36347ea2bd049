"""Results of a CBT exam come in through ``ruang_assessment_scores`` (a stand-in CBT plugin
answers here), matched by ID number, e-mail or account; the pass mark decides."""

from __future__ import annotations

from typing import Any

import pytest

from core import hookspecs
from core.app import create_app
from core.plugins import hookimpl
from plugins.certification import delivery, participants, registrations
from plugins.certification.models import CertField, CertParticipant
from tests.conftest import prepare_test_app
from tests.plugins.certification.conftest import publish, user

pytestmark = pytest.mark.skipif(not hasattr(hookspecs, "ruang_assessment_scores"),
                                reason="the core has no ruang_assessment_scores hook yet")


class StandInCbt:
    RUANG_PLUGIN_NAME = "standin_cbt"

    @hookimpl
    def ruang_assessment_scores(self, session: Any, ref: str) -> Any:
        from core.contracts import AssessmentScore

        if ref != "cbt:exam:7":
            return None
        return [AssessmentScore(ref=ref, score=88.0, identifier="2101001"),
                AssessmentScore(ref=ref, score=40.0, email="peserta@kampus.example"),
                AssessmentScore(ref=ref, score=99.0, email="stranger@elsewhere.example")]


@pytest.fixture
def cbt_app(settings: Any) -> Any:
    app = prepare_test_app(create_app(settings, extra_plugins=[StandInCbt()]))
    with app.app_context():
        yield app
    app.extensions["ruang"].db.dispose()


def test_exam_scores_become_results(cbt_app):
    db = cbt_app.extensions["ruang"].db
    prog = publish(db, fields=[{"code": "NET", "name": "Jaringan", "quota": 5,
                                "pass_mark": 70, "exam_ref": "cbt:exam:7"}])
    field_id = prog.fields[0].id
    with db.transaction() as s:
        outsider = CertParticipant(email="ani@luar.example", full_name="Ani", id_number="2101001",
                                   email_verified_at=registrations.now())
        s.add(outsider)
        s.flush()
        peserta = user(db, "peserta")
        peserta_p = participants.of_user(s, peserta)
        assert peserta_p is not None
        peserta_p.email = "peserta@kampus.example"
        ids = (outsider.id, peserta_p.id)
    for pid in ids:
        registrations.register_now(db, field_id, pid)
    with db.transaction() as s:
        field = s.get(CertField, field_id)
        assert field is not None
        report = delivery.import_exam(s, field, actor=user(db, "add"))
    assert (report.matched, report.unmatched, report.available) == (2, 1, True)
    with db.session() as s:
        for pid, passed in zip(ids, (True, False), strict=True):
            reg = registrations.active_of(s, pid, field_id)
            assert reg is not None
            result = delivery.result_of(s, reg.id)
            assert result is not None and result.passed is passed and result.source == "cbt"
