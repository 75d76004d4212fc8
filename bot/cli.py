"""The `dinplan` command: chat in the terminal, run the bot, and look after the database."""

from __future__ import annotations

import argparse
import logging
import sys

from dialogs.draft import Language
from storage.settings import get_settings


def _chat(args: argparse.Namespace) -> int:
    from bot.runner import DialogRunner
    from bot.terminal import TerminalChat, default_user
    from storage.db import make_engine
    from storage.migrate import upgrade

    settings = get_settings()
    # The terminal chat is the embedded, single-user way in: keep its schema current itself.
    upgrade(settings.database_url)
    runner = DialogRunner(make_engine(settings.database_url))
    language = Language(args.lang) if args.lang else None
    return TerminalChat(runner, args.user or default_user()).run(language)


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

    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command",
                                                                          required=True)
    up = db.add_parser("upgrade", help="migrate the schema to the newest revision")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=_db_upgrade)
    down = db.add_parser("downgrade", help="migrate the schema back")
    down.add_argument("revision", nargs="?", default="-1")
    down.set_defaults(run=_db_downgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=get_settings().log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # transitions logs every state change at INFO; that is noise outside debugging.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
