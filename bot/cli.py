"""The `dinplan` command: chat in the terminal, run the bot, and look after the database."""

from __future__ import annotations

import argparse
import logging
import sys

from dialogs.draft import Language
from storage.settings import get_settings


def _chat(args: argparse.Namespace) -> int:
    from bot.retention import dialog_from_settings
    from bot.runner import DialogRunner
    from bot.terminal import TerminalChat, default_user
    from storage.db import configured_engine
    from storage.migrate import upgrade

    settings = get_settings()
    # The terminal chat is the embedded, single-user way in: keep its schema current itself.
    upgrade(settings.database_url)
    language = Language(args.lang) if args.lang else None
    with configured_engine(settings.database_url) as engine:
        runner = DialogRunner(engine, dialog=dialog_from_settings(settings))
        return TerminalChat(runner, args.user or default_user()).run(language)


def _run(args: argparse.Namespace) -> int:
    from bot.telegram.app import ConfigurationError, StartupError, run_bot

    try:
        return run_bot(get_settings(), webhook=args.webhook)
    except ConfigurationError as error:
        print(f"dinplan run: error: {error}", file=sys.stderr)
        return 2
    except StartupError as error:
        print(f"dinplan run: error: {error}", file=sys.stderr)
        return 1


def _db_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    upgrade(get_settings().database_url, args.revision)
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from storage.migrate import downgrade

    downgrade(get_settings().database_url, args.revision)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dinplan", description="Din plan: prepare an "
                                     "individual plan and a coordinator request.")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="chat with the assistant in this terminal")
    chat.add_argument("--lang", choices=[lang.value for lang in Language],
                      help="written standard: nb (Bokmål) or nn (Nynorsk)")
    chat.add_argument("--user", help="who is chatting (default: your login name)")
    chat.set_defaults(run=_chat)

    run = commands.add_parser("run", help="run the Telegram bot (long polling, or a webhook "
                              "server with --webhook)")
    run.add_argument("--webhook", action="store_true",
                     help="serve Telegram's webhook (DINPLAN_WEBHOOK_URL, DINPLAN_WEBHOOK_SECRET)")
    run.set_defaults(run=_run)

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command",
                                                                          required=True)
    up = db.add_parser("upgrade", help="migrate the schema to the newest revision")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=_db_upgrade)
    down = db.add_parser("downgrade", help="migrate the schema back")
    down.add_argument("revision", nargs="?", default="-1")
    down.set_defaults(run=_db_downgrade)
    from inbox.cli import add_commands as add_inbox_commands

    add_inbox_commands(commands)
    from bot.forwarding_cli import add_commands as add_forwarding_commands

    add_forwarding_commands(commands)
    from bot.keys_cli import add_commands as add_keys_commands

    add_keys_commands(commands)
    return parser


# Commands that read or write what people wrote: without a key they must not start at all.
NEEDS_KEY = frozenset({"chat", "run", "inbox"})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=get_settings().log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # transitions logs every state change at INFO; that is noise outside debugging.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    if args.command == "chat":
        # The terminal is the person's screen: only warnings from the machinery belong on it.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    from bot.logsafe import use_content_free_formatting

    use_content_free_formatting()  # an exception's message may quote what a person wrote
    from storage.crypto import EncryptionKeyError, use_keyring
    from storage.db import DatabaseLocationError

    settings = get_settings()
    try:
        if args.command in NEEDS_KEY:
            # In production a missing key is an error here, never a new key or clear text.
            use_keyring(settings.keyring(), key_file=None if settings.encryption_key
                        else settings.encryption_key_file)
        return int(args.run(args) or 0)
    except (EncryptionKeyError, DatabaseLocationError) as error:
        print(f"dinplan {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
