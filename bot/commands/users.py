"""billbot user add USERNAME --role representative|supervisor: create a console user.
billbot user unlock USERNAME: lift a login lock after failed passwords (as the console's
Locks page does for supervisors; the one way back when every supervisor is locked out).

The password is read from a prompt (typed twice) or, with --password-stdin, from the first
line of standard input; it is never taken from the command line, where `ps` would show it."""
from __future__ import annotations

import getpass
import sys

from sqlalchemy.orm import Session

from billing.core.clock import Clock
from billing.db.engine import make_engine
from bot.console import login_limits
from bot.console.auth import UserError, create_user
from bot.console.console_models import ROLES
from clinic.settings import load_settings


def register(sub) -> None:
    """Add the `user` subcommand for console accounts:
    `add` one, or `unlock` one after failed logins."""
    p = sub.add_parser("user", help="console users (representatives and supervisors)")
    usub = p.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="create a console user")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.set_defaults(func=_add)
    unlock = usub.add_parser("unlock", help="lift a console user's login lock")
    unlock.add_argument("username")
    unlock.set_defaults(func=_unlock)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        print("the passwords do not match; no user was created", file=sys.stderr)
        return None
    return first


def _add(args) -> int:
    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session, session.begin():
            user = create_user(session, args.username, password, args.role)
            name, role = user.username, user.role
    except UserError as exc:
        print(f"user not created: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"created {role} {name}")
    return 0


def _unlock(args) -> int:
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session, session.begin():
            key = login_limits.USER + args.username.strip().lower()
            lifted = login_limits.unlock(session, key, actor="cli", now=Clock().now())
    finally:
        engine.dispose()
    print(f"unlocked {args.username}" if lifted else f"{args.username} was not locked")
    return 0
