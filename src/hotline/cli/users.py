"""``hotline user …``: the node's operators, managed on its folder (the node need not run)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from hotline import seclog
from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    friendly,
    opened_node,
    out,
    print_json,
    read_password,
)

user_app = typer.Typer(help="Manage the node's operators.")

NameArg = Annotated[str, typer.Argument(help="User name")]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input")
]

DisplayNameOpt = Annotated[
    str | None,
    typer.Option(
        "--display-name",
        help="How the other side sees this officer: signed into every envelope they send",
    ),
]


@user_app.command("add")
@friendly
def user_add(
    name: NameArg,
    directory: DirOpt,
    password_stdin: PasswordStdinOpt = False,
    role: Annotated[list[str] | None, typer.Option(help="Role (repeatable)")] = None,
    display_name: DisplayNameOpt = None,
) -> None:
    """Add an operator (password: 12+ characters, not a common one, not containing the
    name; hashed with Argon2id)."""
    password = read_password(password_stdin, "Password")
    with opened_node(directory) as node:
        user = node.auth.add_user(name, password, role, display_name)
        seclog.event("user_added", user=user.name, roles=list(user.roles), source="cli")
    out.print(f"user {user.name} added with role(s) {', '.join(user.roles)}")


@user_app.command("list")
@friendly
def user_list(directory: DirOpt, json_: JsonOpt = False) -> None:
    """List the node's operators, their roles, and who is disabled."""
    with opened_node(directory) as node:
        rows = node.auth.users()
    if json_:
        print_json(rows)
        return
    table = Table("name", "display name", "roles", "since", "state")
    for row in rows:
        roles = ", ".join(row["roles"])
        state = "DISABLED" if row["disabled"] else "active"
        shown = Text(row["display_name"] or "-")
        table.add_row(Text(row["name"]), shown, roles, row["created_at"], state)
    out.print(table)


@user_app.command("display-name")
@friendly
def user_display_name(
    name: NameArg,
    display_name: Annotated[str, typer.Argument(help="The name; empty: none")],
    directory: DirOpt,
) -> None:
    """Set how the other side sees an operator (envelopes sent from now on carry it)."""
    with opened_node(directory) as node:
        node.auth.set_display_name(name, display_name)
        seclog.event("user_display_name", user=name, source="cli")
    out.print(Text(f"display name of {name} set to {display_name.strip() or '(none)'}"))


@user_app.command("disable")
@friendly
def user_disable(name: NameArg, directory: DirOpt) -> None:
    """Disable an operator: their sessions end now; their name stays in every trail."""
    with opened_node(directory) as node:
        ended = node.auth.set_disabled(name, True)
        seclog.event("user_disabled", user=name, sessions_ended=ended, source="cli")
    out.print(Text(f"user {name} disabled; {ended} session(s) ended"))


@user_app.command("enable")
@friendly
def user_enable(name: NameArg, directory: DirOpt) -> None:
    """Enable a disabled operator again (they log in anew)."""
    with opened_node(directory) as node:
        node.auth.set_disabled(name, False)
        seclog.event("user_enabled", user=name, source="cli")
    out.print(Text(f"user {name} enabled"))


@user_app.command("password")
@friendly
def user_password(
    name: NameArg, directory: DirOpt, password_stdin: PasswordStdinOpt = False
) -> None:
    """Set an operator's password (the same rules as `user add`); their sessions end."""
    password = read_password(password_stdin, "New password")
    with opened_node(directory) as node:
        ended = node.auth.set_password(name, password)
        seclog.event("password_changed", user=name, sessions_ended=ended, source="cli")
    out.print(Text(f"password of {name} changed; {ended} session(s) ended"))
