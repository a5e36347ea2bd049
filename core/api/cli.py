"""``ruang tokens ...``: personal API tokens from the command line."""

from __future__ import annotations

import getpass

import click
from flask import current_app
from sqlalchemy import select

from core.accounts.models import User
from core.api import tokens
from core.api.registry import ApiRegistry
from core.db import utcnow
from core.instance import ruang


def _operator() -> str:
    """Who ran the command, for the audit log (there is no signed-in user here)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _registry() -> ApiRegistry:
    reg: ApiRegistry = current_app.extensions["ruang.api"]
    return reg


@click.group("tokens")
def tokens_group() -> None:
    """Personal API tokens for integrations (the academic information system)."""


@tokens_group.command("create")
@click.option("--user", "username", required=True, help="The account the token acts as")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="A scope the token holds; repeat for several (see: ruang tokens scopes)")
@click.option("--name", required=True, help="What uses the token, e.g. 'SIAKAD import'")
@click.option("--days", type=click.IntRange(1, tokens.MAX_DAYS), default=None,
              help="Valid for this many days (default: until revoked)")
def create_cmd(username: str, scopes: tuple[str, ...], name: str, days: int | None) -> None:
    """Create a token and print its secret, which is shown only this once."""
    try:
        with ruang().db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"no user named {username!r}")
            created = tokens.create_token(session, user, name=name, scopes=scopes, days=days,
                                          known_scopes=_registry().known_scopes(),
                                          actor=_operator())
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    token = created.token
    expiry = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else \
        "until revoked"
    click.echo(f"created token {token.id} {token.name!r} for {username} "
               f"(scopes: {', '.join(token.scopes)}; valid {expiry})", err=True)
    click.echo("the secret is shown only now; send it as 'Authorization: Bearer <secret>':",
               err=True)
    click.echo(created.secret)


@tokens_group.command("list")
@click.option("--user", "username", default=None, help="Only this account's tokens")
def list_cmd(username: str | None) -> None:
    """Tokens with their owner, scopes, expiry, last use and state."""
    now = utcnow()
    with ruang().db.session() as session:
        user_id = None
        if username:
            user_id = session.scalar(select(User.id).where(User.username == username))
            if user_id is None:
                raise click.ClickException(f"no user named {username!r}")
        rows = tokens.list_tokens(session, user_id)
    if not rows:
        click.echo("no API tokens")
        return
    click.echo(f"{'ID':>4} {'STATE':<8} {'USER':<14} {'PREFIX':<15} {'EXPIRES':<17} "
               f"{'LAST USED':<17} NAME / SCOPES")
    for token, owner in rows:
        expires = f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "-"
        click.echo(f"{token.id:>4} {token.state(now):<8} {owner.username:<14} "
                   f"{token.prefix:<15} {expires:<17} {used:<17} "
                   f"{token.name} [{' '.join(token.scopes)}]")
    click.echo("times are UTC")


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def revoke_cmd(token_id: int) -> None:
    """Revoke token TOKEN_ID (the ID column of `ruang tokens list`); it stops working at once."""
    try:
        with ruang().db.transaction() as session:
            token, changed = tokens.revoke_token(session, token_id, actor=_operator())
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    if changed:
        click.echo(f"revoked token {token.id} {token.name!r} ({token.prefix}…)")
    else:
        click.echo(f"token {token.id} {token.name!r} was already revoked")


@tokens_group.command("scopes")
def scopes_cmd() -> None:
    """The scopes a token may hold, with the endpoints each one opens."""
    by_scope = _registry().by_scope()
    if not by_scope:
        click.echo("no installed plugin offers API endpoints")
        return
    for scope, routes in by_scope.items():
        click.echo(scope)
        for item in routes:
            click.echo(f"    {item.route.method:<6} /api/v1{item.openapi_path}  "
                       f"{item.route.summary} ({item.plugin})")
