"""Read a typed answer as one of the offered options: by its number or by its label."""

from __future__ import annotations

from dialogs.events import ChoiceEvent, Event, TextEvent
from dialogs.render import RenderedOption


def _plain(label: str) -> str:
    return " ".join(label.replace("✓", " ").replace("✗", " ").split()).casefold()


def read_typed(text: str, options: tuple[RenderedOption, ...], *, by_number: bool) -> Event:
    """A choice if the text names an option (or its number, where numbers are shown)."""
    stripped = text.strip()
    if options and by_number and stripped.isdigit() and 1 <= int(stripped) <= len(options):
        return ChoiceEvent(options[int(stripped) - 1].id)
    wanted = _plain(stripped)
    for option in options:
        if wanted and _plain(option.label) == wanted:
            return ChoiceEvent(option.id)
    return TextEvent(text)
