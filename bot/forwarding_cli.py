"""`dinplan units list|check`, `dinplan deliver`, `dinplan notify`, `dinplan export` and
`dinplan status`: the coordinating units, delivery to them, the units' receipts and status
changes told to the citizen, and a sent draft as PDF, FHIR or JSON.

Nothing printed here holds what a person wrote, except `export`, whose output is the draft.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from storage.cli_schema import schema_errors
from storage.settings import get_settings


def _units_check(args: argparse.Namespace) -> int:
    from storage.units import check_file, load_directory

    problems = check_file(args.file)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    directory = load_directory(args.file)
    numbers = {u.municipality for u in directory.units}
    print(f"{args.file}: OK, {len(directory.units)} units in {len(numbers)} municipalities")
    return 0


def _units_list(args: argparse.Namespace) -> int:
    from dialogs.municipalities import by_number
    from storage.units import DirectoryError, configured_path, load_directory

    path = args.file or configured_path()
    try:
        directory = load_directory(path)
    except DirectoryError as error:
        print(f"{path}: not usable; `dinplan units check {path}` lists the problems "
              f"({len(error.problems)})", file=sys.stderr)
        return 1
    print(f"# {path}")
    for number in sorted({u.municipality for u in directory.units}):
        municipality = by_number(number)
        entry = directory.municipality(number)
        general = f", general phone {entry.phone}" if entry and entry.phone else ""
        print(f"{number} {municipality.name if municipality else '?'}{general}")
        for unit in directory.units_of(number):
            alert = f", alerts to chat {unit.telegram_chat_id}" if unit.telegram_chat_id else ""
            print(f"  {unit.id}: {unit.name.nb} [{unit.language.value}]{alert}")
            for route in unit.routes:
                groups = ", ".join(g.value for g in route.target_groups) or "any target group"
                districts = ", ".join(route.districts) or "every district"
                print(f"    takes {groups} in {districts}")
            if not unit.routes:
                print("    takes every request of the municipality")
    return 0


@schema_errors
def _deliver(args: argparse.Namespace) -> int:
    from bot.delivery import deliver_once
    from storage.db import configured_engine

    with configured_engine() as engine:
        report = asyncio.run(deliver_once(engine, get_settings()))
    print(f"delivered {report.delivered}, alerted {report.alerted}, failed {report.failed}, "
          f"newly overdue {report.overdue}")
    return 0


@schema_errors
def _notify(args: argparse.Namespace) -> int:
    from bot.notifier import notify_once
    from storage.db import configured_engine

    with configured_engine() as engine:
        report = asyncio.run(notify_once(engine, get_settings()))
    print(f"settled {report.settled}, told {report.sent}, not sent {report.retrying}, dropped "
          f"{report.dropped}, failed {report.failed}, still waiting {report.waiting}")
    return 0


@schema_errors
def _status(args: argparse.Namespace) -> int:
    from storage.db import configured_engine, unit_of_work
    from storage.models import utcnow
    from storage.outbox import delivery_status

    settings = get_settings()
    overdue_after = timedelta(minutes=settings.delivery_overdue_after_minutes)
    with configured_engine() as engine, unit_of_work(engine) as session:
        status = delivery_status(session, now=utcnow(), overdue_after=overdue_after)
    print(f"delivered to the units: {status.delivered_total} "
          f"({status.delivered_since} in the last 24 hours)")
    print(f"waiting: {len(status.pending)}, of which overdue (over "
          f"{settings.delivery_overdue_after_minutes} min): {len(status.overdue)}")
    for item in status.pending:
        stage = "alert pending" if item.in_inbox else "not in the inbox yet"
        flag = "OVERDUE " if item.overdue else ""
        print(f"  {flag}#{item.outbox_id} to {item.unit_id}: {stage}, queued "
              f"{item.queued_at:%Y-%m-%d %H:%M} UTC, {item.attempts} failed attempt(s), next "
              f"{item.next_attempt_at:%Y-%m-%d %H:%M} UTC, last error {item.last_error or '-'}")
    return 1 if status.overdue else 0


@schema_errors
def _export(args: argparse.Namespace) -> int:
    from dialogs.review import format_reference
    from storage.db import configured_engine, unit_of_work
    from storage.exports import Copy, bundle, load_document, to_json, to_pdf
    from storage.units import default_directory

    with configured_engine() as engine, unit_of_work(engine) as session:
        document = load_document(session, reference=args.reference)
    if document is None:
        print(f"dinplan export: no sent draft with reference {args.reference}", file=sys.stderr)
        return 1
    document = document.as_copy(Copy(args.copy))
    content: bytes
    if args.format == "pdf":
        content = to_pdf(document, default_directory())
    else:
        data: Any = to_json(document) if args.format == "json" else bundle(document)
        content = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()
    output = args.output
    if output is None and args.format == "pdf":
        suffix = "" if document.copy is Copy.CITIZEN else "-unit"
        output = Path(f"dinplan-{format_reference(document.reference or '')}{suffix}.pdf")
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(content)
        print(f"wrote {output}", file=sys.stderr)
    return 0


def add_commands(commands: Any) -> None:
    """Add the commands to `dinplan`'s subparsers."""
    units = commands.add_parser("units", help="the coordinating units requests go to"
                                ).add_subparsers(dest="units_command", required=True)
    listing = units.add_parser("list", help="list the units in use (DINPLAN_UNITS_FILE or "
                               "the shipped directory)")
    listing.add_argument("--file", type=Path, help="list this units file instead")
    listing.set_defaults(run=_units_list)
    check = units.add_parser("check", help="check a units file; exits 1 on a problem")
    check.add_argument("file", type=Path)
    check.set_defaults(run=_units_check)

    deliver = commands.add_parser("deliver", help="deliver waiting requests to their units "
                                  "once (the bot does this all the time)")
    deliver.set_defaults(run=_deliver)

    notify = commands.add_parser("notify", help="tell citizens once about their unit's receipt "
                                 "or status changes (the bot does this all the time)")
    notify.set_defaults(run=_notify)

    export = commands.add_parser("export", help="a sent draft as PDF, FHIR R4 or JSON")
    export.add_argument("reference", help="the request's reference, like ABCD-2345")
    export.add_argument("--format", choices=["pdf", "fhir", "json"], required=True)
    export.add_argument("--copy", choices=[c for c in ("citizen", "unit")], default="citizen",
                        help="the person's copy (default) or the unit's, with shared answers only")
    export.add_argument("-o", "--output", type=Path,
                        help="file to write ('-' for standard output; default: standard output, "
                        "or dinplan-REFERENCE.pdf for a PDF)")
    export.set_defaults(run=_export)

    status = commands.add_parser("status", help="deliveries waiting and overdue; exits 1 when "
                                 "one is overdue")
    status.set_defaults(run=_status)
