"""The rush benchmark, small: real HTTP against a live ``ruang serve`` the script starts."""

from __future__ import annotations

import pytest

from loadtests import certification_rush


@pytest.mark.live
@pytest.mark.slow
def test_a_rush_confirms_exactly_the_quota_and_waitlists_the_rest(tmp_path):
    result = certification_rush.run(participants=90, seats=15, concurrency=24,
                                    instance=tmp_path / "rush", say=lambda *_: None)
    assert result.error_samples == []
    assert (result.confirmed, result.waitlisted) == (15, 75)
    assert (result.db_confirmed, result.db_waitlisted, result.db_seats_held) == (15, 75, 15)
    assert result.seat_numbers_ok
    assert (result.live_remaining, result.live_waiting) == (0, 75)
    assert result.exact and result.seconds > 0
