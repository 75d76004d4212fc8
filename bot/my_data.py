"""/mine_data for every transport: everything stored about the person, as a JSON file and as a
readable summary in their written standard.

The dialog answers /mine_data with `Effect.EXPORT_MY_DATA` and the line "Here is everything...";
the transport shows the turn up to that line, then the summary and the file (`fetch`,
`summary`), then the rest of the turn (the question the person is at). The export is read after
the turn's commit, in its own transaction, which also records that it was made (a privacy
event without the chat id).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.runner import Turn
from dialogs.draft import Language, SubmissionInfo
from dialogs.events import Label, Reply
from dialogs.render import render
from dialogs.review import local_date, review_lines, status_reply
from storage.db import unit_of_work
from storage.models import utcnow
from storage.privacy import KeptDraft, PersonalData, PrivacyAction, export_person, record_event

ANNOUNCEMENT = "my_data.sent"
LANGUAGE_LABELS = {Language.BOKMAL: "option.bokmal", Language.NYNORSK: "option.nynorsk"}


def fetch(engine: Engine, *, channel: str, chat_id: str, now: datetime | None = None,
          draft_retention_days: int = 30) -> PersonalData | None:
    now = now or utcnow()
    with unit_of_work(engine) as session:
        data = export_person(session, channel=channel, chat_id=chat_id, now=now,
                             draft_retention_days=draft_retention_days)
        record_event(session, what=PrivacyAction.DATA_EXPORTED, channel=channel, now=now)
    return data


def filename(data: PersonalData | None) -> str:
    moment = data.exported_at if data else utcnow()
    return f"dinplan-mine-data-{moment:%Y%m%d-%H%M%S}.json"


def json_bytes(data: PersonalData | None) -> bytes:
    return data.json_bytes() if data else b"{}\n"


def _draft_lines(kept: KeptDraft) -> list[Reply]:
    lines: list[Reply] = []
    if kept.request is None:
        assert kept.deleted_at is not None
        lines.append(Reply("privacy.export.draft", {"started": local_date(kept.started_at),
                                                    "deleted": local_date(kept.deleted_at)}))
    else:
        request = kept.request
        lines.append(status_reply(SubmissionInfo(request.reference, request.submitted_at,
                                                 request.status, request.status_changed_at)))
    draft = kept.draft
    # A request whose text was deleted (consent withdrawn) keeps only its reference and status.
    if draft.answers or draft.contact_name or draft.person_name or kept.request is None:
        lines.extend(line for line in review_lines(draft)
                     if not (line.key.startswith("review.contact")
                             and draft.contact_name is None and draft.phone is None))
    return lines


def summary(data: PersonalData | None) -> list[Reply]:
    """The readable summary: who, since when, consent, reminders, each draft and request."""
    if data is None:
        return [Reply("privacy.export.nothing")]
    lines = [Reply("privacy.export.heading", {"date": local_date(data.exported_at)}),
             Reply("privacy.export.first_seen", {"date": local_date(data.first_seen)})]
    if data.language is not None:
        lines.append(Reply("privacy.export.language",
                           {"language": Label(LANGUAGE_LABELS[data.language])}))
    if data.consented_at is not None:
        lines.append(Reply("privacy.export.consent", {"date": local_date(data.consented_at),
                                                      "version": data.consent_version or "-"}))
    elif data.declined_at is not None:
        lines.append(Reply("privacy.export.declined", {"date": local_date(data.declined_at)}))
    else:
        lines.append(Reply("privacy.export.no_consent"))
    if data.wants_reminder is not None:
        lines.append(Reply("privacy.export.reminder.yes" if data.wants_reminder
                           else "privacy.export.reminder.no"))
    if not data.drafts:
        lines.append(Reply("privacy.export.no_drafts"))
    for kept in data.drafts:
        lines.extend(_draft_lines(kept))
    if data.requests:
        lines.append(Reply("privacy.export.unit_copy"))
    return lines


def split_turn(turn: Turn, language: Language | None) -> tuple[Turn, Turn]:
    """The turn up to "Here is everything..." and the rest, so the data comes between."""
    announcement = render(language or turn.language, Reply(ANNOUNCEMENT)).text
    texts = [reply.text for reply in turn.replies]
    cut = texts.index(announcement) + 1 if announcement in texts else len(texts)
    return (replace(turn, replies=turn.replies[:cut]),
            replace(turn, replies=turn.replies[cut:]))


__all__ = ["fetch", "filename", "json_bytes", "split_turn", "summary"]
