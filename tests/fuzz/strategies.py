"""Hypothesis strategies for hostile input: any JSON, and JSON shaped almost like the real
message (the right keys with wrong values, extra keys), which gets past the first checks."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
           | st.sampled_from(["", "0", "1", "true", "null", "💥", "\x00", "a" * 300]))

json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.text(max_size=8), children, max_size=6),
    max_leaves=25)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with some of ``fields`` (each either its plausible value or anything) and
    maybe a key too many."""
    plausible = {k: v | json_values for k, v in fields.items()}
    return st.fixed_dictionaries({}, optional=plausible).flatmap(
        lambda d: st.dictionaries(st.text(max_size=6), json_values, max_size=2).map(
            lambda extra: {**extra, **d}))


def _wire_carries(auth: Any) -> bool:
    """Whether a CONNECT packet can carry ``auth`` as its payload. Socket.IO reads digits
    right after the namespace as the packet's id, so a non-negative number there is not a
    payload at all: ``0.0`` goes out as id 0 then ``.0`` (python-socketio's test client
    encodes it anyway, then fails to decode its own packet). Browsers send an object."""
    number = isinstance(auth, int | float) and not isinstance(auth, bool)
    return not (number and auth >= 0)


handshake_payloads = json_values.filter(_wire_carries)
"""Anything a client can put in the handshake's ``auth``."""

