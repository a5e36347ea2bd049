"""Database-heavy tests of other areas, run again on both engines, SQLite and PostgreSQL.

The tests are the areas' own, collected here a second time with ``settings =
on_both_engines()`` (tests/fixtures/databases.py), which runs each once on SQLite and once
on a clone of a migrated PostgreSQL demo database: the answer log (group commit, unique
sequence numbers, the guarded insert), session tokens made once per window, the audit
chain rolling back with its change, certification quotas and waiting lists, lab
reservations. An area opts its own test module in with the same one line.
"""

from __future__ import annotations

from typing import Any

from tests.core.audit.test_chain import (  # noqa: F401
    test_change_and_its_audit_entry_roll_back_together,
)
from tests.core.rooms.test_registry import (  # noqa: F401
    core_only,
    test_asset_numbers_are_unique_across_labs,
    test_reserve_default_path_grants_a_lab_with_enough_working_seats,
    test_reserve_default_path_refuses_more_seats_than_working_pcs,
)
from tests.fixtures.databases import on_both_engines
from tests.plugins.cbt.delivery.conftest import room  # noqa: F401
from tests.plugins.cbt.delivery.test_socket import (  # noqa: F401
    position_of,
    signed_in,
    start_all,
    test_answers_before_the_start_after_submit_and_after_a_reset_are_refused,
    test_start_by_token_sends_the_key_and_the_server_deadline,
    test_the_deadline_is_the_servers_and_the_server_submits_by_itself,
    test_tokens_rotate_per_window_are_made_once_and_the_last_one_has_a_grace,
)
from tests.plugins.certification.conftest import published  # noqa: F401
from tests.plugins.certification.test_rules import (  # noqa: F401
    test_freed_seats_go_to_the_waiting_list_in_order_with_a_time_limit,
    test_the_quota_cannot_drop_below_the_seats_taken,
)

settings = on_both_engines()


def test_a_first_answer_is_acknowledged_as_stored_not_as_a_resend(
        app: Any, db: Any, room: Any, settings: Any) -> None:  # noqa: F811
    """tests/plugins/cbt/delivery/test_socket.py's answers test, first step, on both engines.

    The guarded ``INSERT ... ON CONFLICT DO NOTHING`` of the answer log must report the row
    it wrote: psycopg gives -1 unless SQLAlchemy is asked to keep the count, and a first
    answer was then acknowledged as a re-send (``dup``) that the seat map did not count.
    """
    kiosk, done = signed_in(app, db, room)
    start_all(db, room)
    single = position_of(db, done.attempt_id, "single")
    ack = kiosk.answer(1, single, 2)
    assert ack.get("ok") and ack.get("s") == 1
    assert ack == {"ok": True, "s": 1}
    assert kiosk.answer(1, single, 2) == {"ok": True, "s": 1, "dup": True}
