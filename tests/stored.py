"""Storing a conversation as a turn of the dialog would, for tests that set one up directly."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dialogs.draft import Conversation
from dialogs.events import Effect
from storage.conversations import load_turn, save_turn


def store_turn(session: Session, *, channel: str, chat_id: str, conv: Conversation,
               effects: list[Effect], now: datetime | None = None) -> None:
    """Save `conv` over what is stored for the chat, as `DialogRunner`'s turn does."""
    _stored, state = load_turn(session, channel=channel, chat_id=chat_id)
    save_turn(session, state, channel=channel, chat_id=chat_id, conv=conv, effects=effects,
              now=now)
