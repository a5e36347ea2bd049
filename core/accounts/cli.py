"""``ruang users ...``: accounts from the command line."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from core.accounts.models import User
from core.accounts.passwords import PasswordError
from core.accounts.roles import Division, Role
from core.accounts.service import AccountError, create_user, set_password
from core.instance import ruang


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group("users")
def users() -> None:
    """Create and list user accounts."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--division", type=click.Choice([d.value for d in Division], case_sensitive=False))
@click.option("--head", is_flag=True, help="Head of the division (Kabag.)")
@click.option("--name", "full_name", default="")
@click.option("--email", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def create(username: str, role: str, division: str | None, head: bool, full_name: str,
           email: str, password_stdin: bool) -> None:
    """Create a user; the password comes from a prompt, or from stdin."""
    password = _read_password(password_stdin)
    try:
        with ruang().db.transaction() as session:
            user = create_user(session, username=username, password=password, role=role,
                               division=division, is_division_head=head,
                               full_name=full_name, email=email)
    except (AccountError, PasswordError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
def passwd(username: str, password_stdin: bool) -> None:
    """Set a user's password."""
    password = _read_password(password_stdin)
    try:
        with ruang().db.transaction() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"no user named {username!r}")
            set_password(session, user, password)
    except PasswordError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {username} changed")


@users.command("list")
def list_users() -> None:
    """List users with their role and division."""
    with ruang().db.session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "" if user.active else " (inactive)"
            click.echo(f"{user.username:<24} {user.role:<10} {user.division or '-':<6} "
                       f"{user.display_name}{state}")
