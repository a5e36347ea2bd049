"""Every route and socket event, tried as every role and as a guest.

The answer expected for each (route, role) pair is derived from the route's declared
permission and the plugins' permission declarations, so the matrix grows by itself as
plugins add pages: a new page without a permission, a permission check that lets the wrong
role in, or a page that crashes on an unknown id all fail here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from core.accounts.access import can, declared_permissions
from core.accounts.models import User
from tests.conftest import DEMO_PASSWORDS, Browserish

ROLES = {  # demo user of each role
    "admin": "admin", "head": "kabpti", "approver": "wr2", "staff": "yansi",
    "proctor": "pengawas", "requester": "pemohon", "candidate": "peserta",
}
# Endpoints whose answer does not depend on a permission by design.
OPEN = {"static", "accounts.logout", "accounts.set_language"}


def _fill(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        conv = rule._converters[arg]
        name = type(conv).__name__
        values[arg] = 999999 if name in ("IntegerConverter",) else "zz-missing"
    try:
        return rule.build(values)[1]  # type: ignore[index]
    except Exception:
        return re.sub(r"<[^>]+>", "zz-missing", rule.rule)


def _routes(app: Flask) -> list[tuple[Rule, Any]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        out.append((rule, app.view_functions[rule.endpoint]))
    return sorted(out, key=lambda rv: rv[0].rule)


def test_every_route_declares_its_permission(app):
    missing = [f"{rule.rule} ({rule.endpoint})" for rule, view in _routes(app)
               if not hasattr(view, "ruang_permission")]
    assert missing == [], "routes without @require(...) or @public: " + ", ".join(missing)


def test_every_declared_route_permission_exists(app):
    perms = declared_permissions()
    unknown = [f"{rule.rule}: {view.ruang_permission}" for rule, view in _routes(app)
               if getattr(view, "ruang_permission", None) not in (None, *perms)]
    assert unknown == []


@pytest.fixture
def clients(app) -> dict[str, Browserish]:
    out = {"guest": Browserish(app.test_client())}
    out["guest"].get("/login")
    for role, username in ROLES.items():
        b = Browserish(app.test_client())
        b.login(username, DEMO_PASSWORDS[username])
        out[role] = b
    return out


def _as_user(role: str) -> User | None:
    if role == "guest":
        return None
    return User(username=role, role=role, division="YANSI" if role == "staff" else None,
                active=True)


def test_matrix_of_routes_and_roles(app, clients):
    problems: list[str] = []
    for rule, view in _routes(app):
        perm = getattr(view, "ruang_permission", None)
        if perm is None or rule.endpoint in OPEN or rule.endpoint.startswith("api."):
            continue
        url = _fill(rule)
        methods = sorted(m for m in (rule.methods or ()) if m in ("GET", "POST"))
        for role, client in clients.items():
            allowed = can(_as_user(role), perm)
            for method in methods:
                resp = client.get(url) if method == "GET" else client.post(url, {})
                code = resp.status_code
                where = f"{method} {rule.rule} as {role} (needs {perm})"
                if code >= 500:
                    problems.append(f"{where}: server error {code}")
                elif not allowed and role == "guest":
                    if code == 200:
                        problems.append(f"{where}: a guest got 200")
                elif not allowed and code not in (403, 404):
                    problems.append(f"{where}: expected 403, got {code}")
                elif allowed and code == 403 and rule.arguments == set():
                    # Object-level rules may refuse an allowed role for a given id; a page
                    # without ids refused to a role its permission names is a bug.
                    problems.append(f"{where}: refused with 403 although the role may")
    assert problems == [], "\n".join(problems)


def test_matrix_of_socket_events_and_roles(app, clients):
    r = app.extensions["ruang"]
    specs = r.plugins.collect_by_plugin("ruang_socket_handlers", enabled_only=True)
    problems: list[str] = []
    for _plugin, spec in specs:
        if spec.permission is None or spec.event == "connect":
            continue
        for role, client in clients.items():
            sio = r.socketio.test_client(app, namespace=spec.namespace,
                                         flask_test_client=client.client)
            if not sio.is_connected(spec.namespace):
                continue  # the namespace refuses this caller at connect: also fine
            ack = sio.emit(spec.event, {}, namespace=spec.namespace, callback=True)
            forbidden = isinstance(ack, dict) and ack.get("error") == "forbidden"
            if can(_as_user(role), spec.permission) == forbidden:
                problems.append(f"{spec.namespace} {spec.event} as {role}: ack {ack!r}")
            sio.disconnect(namespace=spec.namespace)
    assert problems == [], "\n".join(problems)
