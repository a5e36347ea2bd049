"""Core area: rooms, the physical registry every procedure shares.

Labs with a grid of seats, the PC at each seat, and the kiosk browsers enrolled to seats.
What plugins use:

* ``core.rooms.service``: ``create_lab``, ``working_seats(session, lab_id)`` (active seats
  whose PC works: where candidates can sit), ``set_device_status`` (audited),
  ``reserve(session, RoomRequest(...))`` / ``release`` / ``busy`` (through the
  ``ruang_reserve_room``, ``ruang_release_room`` and ``ruang_room_busy`` hooks), and
  ``RoomError`` for refused changes.
* ``core.rooms.kiosks``: ``authenticate_token(session, token)`` (the kiosk behind a token, or
  ``None`` if unknown or revoked), ``kiosk_from_request(session)`` on HTTP (header
  ``X-Kiosk-Token`` or the ``ruang_kiosk`` cookie), ``kiosk_place`` (its lab and seat),
  ``heartbeat(db, kiosk_id)`` to keep it online from another plugin's events,
  ``is_online``, and ``open_page(path, lab_id=... | kiosk_id=...)`` /
  ``emit_to_kiosks`` to reach kiosks on Socket.IO namespace ``/kiosk``, where each one is in
  rooms ``kiosk:<id>`` and ``lab:<lab id>``. In the browser the token is in
  ``localStorage["ruang.kiosk.token"]``.
"""
