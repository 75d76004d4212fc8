"""Replies as Telegram messages: HTML escaping, splitting at 4,096 characters, joining a turn.

Catalog text is written HTML-safe (no `<` or `&`, a test checks), so only what the person wrote
is escaped, by the dialog's renderer (`escape=html.escape`). Lengths are counted in UTF-16 code
units of the escaped text: never less than what Telegram counts after parsing the entities.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram.constants import MessageLimit

from dialogs.events import Expect
from dialogs.render import RenderedOption, RenderedReply

MAX_LENGTH: int = MessageLimit.MAX_TEXT_LENGTH
PARAGRAPH = "\n\n"

escape = html.escape

# After the end of a sentence (with any closing quote or bracket), or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?…:])[»”\")\]]*[ \t]+|\n+")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


def length(text: str) -> int:
    """Telegram's count: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Outgoing:
    """One message to send: HTML text, and the options of the question it ends with."""

    text: str
    options: tuple[RenderedOption, ...] = ()
    expect: str = Expect.NOTHING.value

    @property
    def asks_for_phone(self) -> bool:
        return self.expect == Expect.PHONE.value


def split_text(text: str, limit: int = MAX_LENGTH) -> list[str]:
    """Pieces of at most `limit`, cut after sentences, else between words, else anywhere."""
    pieces = []
    while length(text) > limit:
        head, text = cut(text, limit)
        pieces.append(head)
    return [*pieces, text] if text else pieces


def cut(text: str, room: int, *, sentences_only: bool = False) -> tuple[str, str]:
    """The longest head of `text` within `room` that ends a sentence (else a word, else
    anywhere outside an HTML entity), and the rest. With `sentences_only` the head may be ""."""
    head = _longest(_sentences(text), room)
    if not head and not sentences_only:
        head = _longest(re.findall(r"\S+\s*|\s+", text), room) \
            or text[:max(1, _cut_index(text, room))]
    return head.rstrip(), text[len(head):].lstrip()


def _longest(parts: list[str], room: int) -> str:
    head = ""
    for part in parts:
        if length((head + part).rstrip()) > room:
            break
        head += part
    return head


def _sentences(text: str) -> list[str]:
    """The text cut after each boundary; the boundary's whitespace stays with its sentence."""
    parts, start = [], 0
    for match in _BOUNDARY.finditer(text):
        parts.append(text[start:match.end()])
        start = match.end()
    parts.append(text[start:])
    return [part for part in parts if part]


def _cut_index(word: str, limit: int) -> int:
    """The longest prefix within `limit` that does not end inside an HTML entity."""
    cut, used = 0, 0
    for char in word:
        used += length(char)
        if used > limit:
            break
        cut += 1
    for entity in _ENTITY.finditer(word):
        if entity.start() < cut < entity.end():
            return entity.start() or cut
    return cut


def pack(replies: Iterable[RenderedReply], limit: int = MAX_LENGTH) -> list[Outgoing]:
    """The turn's replies in as few messages as fit; a question's options close its message.

    A reply that fits in a message is never cut; a longer one fills the current message up to
    a sentence end and goes on in the next.
    """
    messages: list[Outgoing] = []
    pending: list[str] = []

    def close(options: Sequence[RenderedOption] = (), expect: str = Expect.NOTHING.value) -> None:
        if pending:
            messages.append(Outgoing(PARAGRAPH.join(pending), tuple(options), expect))
            pending.clear()

    for reply in replies:
        text = reply.text.strip()
        while text:
            if length(PARAGRAPH.join([*pending, text])) <= limit:
                pending.append(text)
                break
            if pending and length(text) <= limit:
                close()
                continue
            room = limit - (length(PARAGRAPH.join(pending)) + length(PARAGRAPH) if pending else 0)
            head, rest = cut(text, room, sentences_only=bool(pending)) if room > 0 else ("", text)
            if head:
                pending.append(head)
                text = rest
            close()
        if reply.options or reply.expect == Expect.PHONE.value:
            close(reply.options, reply.expect)
    close()
    return messages
