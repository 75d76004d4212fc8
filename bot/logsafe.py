"""Log output of `dinplan` processes that cannot quote what a person wrote.

Code that logs never passes answers, names or phone numbers (tests/privacy/test_logs.py). But an
exception's message can quote them without anyone meaning it to: a database error quotes the
values of its statement, `int("...")` quotes its input. So a logged exception shows its type and
where it happened (the code lines of its traceback), never its message.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def describe(error: BaseException) -> str:
    """An exception as type and where it happened, its causes too; no message."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        lines.append(f"Traceback (most recent call last):\n{frames}"
                     f"{type(current).__module__}.{type(current).__qualname__} "
                     "(message not logged)")
        current = current.__cause__ or current.__context__
    return "\n\nwhich was raised while handling, or caused by:\n\n".join(reversed(lines))


class ContentFreeFormatter(logging.Formatter):
    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 (logging's name)
        _type, error, _tb = ei
        return describe(error) if error is not None else ""


def use_content_free_formatting(logger: logging.Logger | None = None) -> None:
    """Every handler of `logger` (the root logger) formats exceptions without their message."""
    for handler in (logger or logging.getLogger()).handlers:
        current = handler.formatter
        handler.setFormatter(ContentFreeFormatter(
            current._fmt if current else None,
            current.datefmt if current else None))
