"""`dinplan keys new|rotate` and `dinplan retention`: the encryption key and the retention run.

For the operator, in English. Nothing printed here holds what a person wrote; keys are printed
only by `keys new`, which is what it is for.

Rotation with the key file (DINPLAN_ENCRYPTION_KEY_FILE, default var/dinplan.key):

    dinplan keys rotate

writes a new key first (the old one kept), re-encrypts every encrypted column of every table in
one transaction, then drops the old key. Running processes pick up the new file by themselves.

Rotation with keys in the environment (DINPLAN_ENCRYPTION_KEY):

    dinplan keys new                               # prints NEW
    DINPLAN_ENCRYPTION_KEY="NEW,OLD"               # everywhere; restart the bot and the inbox
    dinplan keys rotate                            # every value now under NEW
    DINPLAN_ENCRYPTION_KEY="NEW"                   # everywhere; restart again
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from storage.cli_schema import schema_errors


def _keys_new(args: argparse.Namespace) -> int:
    from storage.crypto import new_key

    print(new_key())
    return 0


@schema_errors
def _keys_rotate(args: argparse.Namespace) -> int:
    from storage.crypto import rotate_key_file, rotate_to_current
    from storage.db import configured_engine
    from storage.settings import get_settings

    settings = get_settings()
    with configured_engine(settings.database_url) as engine:
        if settings.encryption_key is not None:
            ring = settings.keyring()
            if len(ring.key_ids) < 2:
                print("dinplan keys rotate: error: DINPLAN_ENCRYPTION_KEY holds one key; set it "
                      'to "NEW,OLD" (a new key from `dinplan keys new` first), restart the bot '
                      "and the inbox, then rotate", file=sys.stderr)
                return 2
            rotation = rotate_to_current(engine, ring)
            print(f"re-encrypted {rotation.reencrypted} values with key {rotation.new_key_id}; "
                  f"now set DINPLAN_ENCRYPTION_KEY to that key alone and restart")
            return 0
        key_file = settings.encryption_key_file
        if not key_file.is_file():
            print(f"dinplan keys rotate: error: no key file at {key_file}", file=sys.stderr)
            return 2
        rotation = rotate_key_file(engine, key_file, settle_seconds=args.settle)
    dropped = ", ".join(rotation.dropped_key_ids) or "none"
    print(f"re-encrypted {rotation.reencrypted} values with the new key {rotation.new_key_id}; "
          f"dropped the old keys ({dropped}) from {key_file}")
    return 0


@schema_errors
def _retention(args: argparse.Namespace) -> int:
    from bot.retention import retention_once
    from storage.db import configured_engine
    from storage.settings import get_settings

    settings = get_settings()
    with configured_engine(settings.database_url) as engine:
        report = asyncio.run(retention_once(engine, settings))
    print(f"deleted {report.drafts} unsent drafts, {report.requests} requests and "
          f"{report.conversations} empty chats; sent {report.reminders} reminders "
          f"({report.reminders_failed} failed)")
    return 0


def add_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="the encryption key of names, phone numbers and "
                               "answers").add_subparsers(dest="keys_command", required=True)
    new = keys.add_parser("new", help="print a new key (for DINPLAN_ENCRYPTION_KEY)")
    new.set_defaults(run=_keys_new)
    rotate = keys.add_parser("rotate", help="re-encrypt everything with a new key and drop the "
                             "old one (key file), or with the first of DINPLAN_ENCRYPTION_KEY")
    rotate.add_argument("--settle", type=float, default=2.0,
                        help="seconds for running processes to see the new key file (default 2)")
    rotate.set_defaults(run=_keys_rotate)

    retention = commands.add_parser("retention", help="delete what is kept too long, and remind "
                                    "those who asked, once (the bot does this all the time)")
    retention.set_defaults(run=_retention)
