"""Updates of different chats run concurrently; the updates of one chat, strictly in order.

PTB hands updates to the processor in the order it received them. Each chat has a lock, and
`asyncio.Lock` (like PTB's semaphore in front of it) wakes its waiters first come, first served,
so a chat's second message is handled after its first has been answered, while other chats go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates waiting for their chat's lock hold a slot too, so leave room for many chats.
DEFAULT_CONCURRENT_UPDATES = 256


@dataclass
class _ChatLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # updates holding or waiting for the lock


def chat_key(update: object) -> int | None:
    """What orders an update: its chat, else its sender; None for anything else."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes many chats at once and each chat's updates one at a time, in order."""

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, _ChatLock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        chat = self._chats.setdefault(key, _ChatLock())
        chat.holders += 1
        try:
            async with chat.lock:
                await coroutine
        finally:
            chat.holders -= 1
            if chat.holders == 0:
                # No memory kept per chat once it is quiet.
                del self._chats[key]

    @property
    def busy_chats(self) -> int:
        return len(self._chats)

    async def initialize(self) -> None:
        """Nothing to set up: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB awaits every running update before shutting down."""
