"""The API's own endpoints: who the token belongs to, and which plugins are installed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import g
from pydantic import BaseModel, Field

from core.accounts.models import User
from core.contracts import ApiRoute
from core.instance import ruang


class TokenInfo(BaseModel):
    name: str
    prefix: str = Field(description="The first characters of the token, as listed to staff")
    scopes: list[str]
    expires_at: datetime | None = Field(description="UTC; null when it never expires")


class Me(BaseModel):
    """The account the token belongs to, and the token itself."""

    id: int
    username: str
    full_name: str
    email: str
    role: str
    division: str | None
    unit: str
    token: TokenInfo


class PluginOut(BaseModel):
    name: str
    version: str
    enabled: bool
    description: str
    core: bool = Field(description="Part of the core: always enabled")


class PluginList(BaseModel):
    plugins: list[PluginOut]


def me(user: User) -> Me:
    """Check a token: the account it acts as, its scopes and its expiry."""
    token = g.api_token
    return Me(
        id=user.id, username=user.username, full_name=user.full_name, email=user.email,
        role=user.role, division=user.division, unit=user.unit,
        token=TokenInfo(name=token.name, prefix=token.prefix, scopes=list(token.scopes),
                        expires_at=token.expires_at),
    )


def plugins(user: User) -> PluginList:
    """Every installed plugin with its version and whether it is enabled now."""
    host = ruang().plugins
    host.refresh(force=True)
    return PluginList(plugins=[
        PluginOut(name=p.name, version=p.version, enabled=host.is_enabled(p.name),
                  description=p.description, core=not p.switchable)
        for p in sorted(host.plugins.values(), key=lambda p: (p.switchable, p.name))
    ])


ROUTES: Sequence[ApiRoute] = (
    ApiRoute("/me", "GET", me, "profile", "The token's account", response=Me),
    ApiRoute("/plugins", "GET", plugins, "plugins:read", "Installed plugins",
             response=PluginList),
)
