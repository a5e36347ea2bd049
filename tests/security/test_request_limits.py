"""A request body over the limit is refused with 413 before it is read, wherever it goes."""

from __future__ import annotations

import pytest

OVER = 65 * 1024 * 1024  # core/app.py: MAX_CONTENT_LENGTH is 64 MB


@pytest.mark.parametrize(("path", "content_type"), [
    ("/login", "application/x-www-form-urlencoded"),
    ("/helpdesk/new", "multipart/form-data; boundary=x"),
    ("/cbt/kiosk/signin", "application/json"),
])
def test_a_body_over_the_limit_is_refused_with_413(client, path, content_type):
    # The declared length is what is checked: nothing of the body is read or stored.
    resp = client.post(path, data=b"x" * 10, content_type=content_type,
                       environ_overrides={"CONTENT_LENGTH": str(OVER)})
    assert resp.status_code == 413
    assert "413" in resp.get_data(as_text=True)
