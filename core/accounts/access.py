"""Who may do what: permissions declared by plugins through ``ruang_permissions``.

Every route and socket event names a permission; ``can`` answers from the declarations
of enabled plugins. Admins hold every permission. An undeclared permission is a
programming error and raises, so a typo never turns into a silent "forbidden" or "allowed".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from core.accounts.models import User
from core.accounts.roles import Role
from core.contracts import Permission
from core.instance import ruang

F = TypeVar("F", bound=Callable[..., Any])


class UnknownPermission(LookupError):
    pass


def declared_permissions() -> dict[str, Permission]:
    """Permissions of every installed plugin, enabled or not, by name."""
    host = ruang().plugins
    out: dict[str, Permission] = {}
    for result in host.all_hook.ruang_permissions():
        for perm in result or ():
            out[perm.name] = perm
    return out


def can(user: Any, permission: str) -> bool:
    """Whether ``user`` (a :class:`User`, or a guest / ``None``) holds ``permission``."""
    perms = declared_permissions()
    perm = perms.get(permission)
    if perm is None:
        raise UnknownPermission(f"permission {permission!r} is not declared by any plugin")
    if user is None or not getattr(user, "is_authenticated", False):
        return "guest" in perm.roles
    if not isinstance(user, User) or not user.active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role in perm.roles


def require(permission: str) -> Callable[[F], F]:
    """Decorate a view: 401-redirect guests to sign in, 403 users without ``permission``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if can(current_user, permission):
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                from flask import redirect, request, url_for

                return redirect(url_for("accounts.login", next=request.full_path))
            abort(403)

        wrapped.ruang_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def public(view: F) -> F:
    """Mark a view as open to everyone, so the route audit test knows it is deliberate."""
    view.ruang_permission = None  # type: ignore[attr-defined]
    return view
