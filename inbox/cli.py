"""The inbox's `dinplan` subcommands: `inbox`, `staff add/list/disable` and `audit`.

They print for the administrator, in English like the rest of the command line. Nothing here
prints a request's content: the audit log has none. On a database without the schema, the
commands that use it say to run `dinplan db upgrade` (exit 2) instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.cli_schema import schema_errors


def _inbox(args: argparse.Namespace) -> int:
    from inbox.server import serve

    return serve(host=args.host, port=args.port,
                 secure_cookies=False if args.insecure_cookies else None)


@schema_errors
def _staff_add(args: argparse.Namespace) -> int:
    from storage.db import configured_engine, unit_of_work
    from storage.settings import get_settings
    from storage.staff import SETUP_LINK_VALID, StaffError, add_staff
    from storage.units import default_directory

    unit = default_directory().unit(args.unit)
    if unit is None:
        known = ", ".join(u.id for u in default_directory().units)
        print(f"dinplan: no unit {args.unit!r} in the units directory; known: {known}",
              file=sys.stderr)
        return 2
    try:
        with configured_engine() as engine, unit_of_work(engine) as session:
            account, token = add_staff(session, unit_id=unit.id, name=args.name,
                                       login=args.login, language=args.lang)
            login = account.login
    except StaffError as error:
        print(f"dinplan: {error}", file=sys.stderr)
        return 2
    link = f"{get_settings().inbox_url.rstrip('/')}/setup/{token}"
    hours = int(SETUP_LINK_VALID.total_seconds() // 3600)
    print(f"Added {args.name} ({login}) to {unit.name.nb} ({unit.id}).")
    print(f"One-time set-up link, valid for {hours} hours; give it to {login} only:")
    print(link)
    return 0


@schema_errors
def _staff_list(args: argparse.Namespace) -> int:
    from storage.db import configured_engine, unit_of_work
    from storage.staff import list_staff

    with configured_engine() as engine, unit_of_work(engine) as session:
        accounts = list_staff(session, unit_id=args.unit)
    now = datetime.now(UTC)
    print(f"{'login':<24} {'name':<28} {'unit':<40} {'lang':<4} state")
    for account in accounts:
        locked = account.locked_until is not None and account.locked_until > now
        state = ("disabled" if account.disabled_at else "locked" if locked
                 else "active" if account.is_set_up else "waiting for set-up")
        print(f"{account.login:<24} {account.name:<28} {account.unit_id:<40} "
              f"{account.language:<4} {state}")
    return 0


@schema_errors
def _staff_disable(args: argparse.Namespace) -> int:
    from storage.db import configured_engine, unit_of_work
    from storage.staff import StaffError, disable_staff

    try:
        with configured_engine() as engine, unit_of_work(engine) as session:
            account = disable_staff(session, login=args.login)
            name = account.name
    except StaffError as error:
        print(f"dinplan: {error}", file=sys.stderr)
        return 2
    print(f"Disabled {name} ({args.login}); their sessions have ended.")
    return 0


@schema_errors
def _audit(args: argparse.Namespace) -> int:
    from dialogs.reference import normalize_reference
    from storage.db import configured_engine, unit_of_work
    from storage.staff import audit_entries

    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    with configured_engine() as engine, unit_of_work(engine) as session:
        entries = audit_entries(
            session, unit_id=args.unit, login=args.login,
            reference=normalize_reference(args.reference) if args.reference else None,
            since=since, limit=args.limit)
    print(f"{'when (UTC)':<20} {'who':<24} {'unit':<40} {'action':<14} {'request':<10} result")
    for entry in entries:
        print(f"{entry.at.strftime('%Y-%m-%d %H:%M:%S'):<20} {entry.staff_login:<24} "
              f"{entry.unit_id:<40} {entry.action:<14} {entry.reference or '-':<10} "
              f"{'ok' if entry.allowed else 'DENIED'}")
    return 0


def add_commands(commands: Any) -> None:
    """Add the inbox's subcommands to `dinplan`'s subparsers."""
    inbox = commands.add_parser("inbox", help="serve the coordinating units' web inbox")
    inbox.add_argument("--host", help="address to listen on (default: DINPLAN_INBOX_LISTEN)")
    inbox.add_argument("--port", type=int, help="port (default: DINPLAN_INBOX_PORT)")
    inbox.add_argument("--insecure-cookies", action="store_true",
                       help="send cookies over plain http too (a local try-out only)")
    inbox.set_defaults(run=_inbox)

    staff = commands.add_parser("staff", help="staff accounts of the inbox").add_subparsers(
        dest="staff_command", required=True)
    add = staff.add_parser("add", help="add a staff member and print their set-up link")
    add.add_argument("--unit", required=True, help="the unit's id in the units directory")
    add.add_argument("--name", required=True, help="full name, as colleagues see it")
    add.add_argument("--login", help="user name (default: made from the name)")
    add.add_argument("--lang", choices=["nb", "nn"], default="nb",
                     help="written standard of the inbox: nb (Bokmål) or nn (Nynorsk)")
    add.set_defaults(run=_staff_add)
    listing = staff.add_parser("list", help="list staff members")
    listing.add_argument("--unit", help="only this unit")
    listing.set_defaults(run=_staff_list)
    disable = staff.add_parser("disable", help="stop a staff member from logging in")
    disable.add_argument("login")
    disable.set_defaults(run=_staff_disable)

    audit = commands.add_parser("audit", help="who opened or changed which request, and when")
    audit.add_argument("--unit", help="only this unit")
    audit.add_argument("--login", help="only this staff member")
    audit.add_argument("--reference", help="only this request")
    audit.add_argument("--days", type=int, help="only the last N days")
    audit.add_argument("--limit", type=int, default=200, help="at most this many (newest first)")
    audit.set_defaults(run=_audit)
