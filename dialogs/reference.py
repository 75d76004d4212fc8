"""Short request references that are easy to read aloud on the phone."""

from __future__ import annotations

import secrets

# Crockford's base 32 without the look-alikes 0/O, 1/I/L and the U that can spell words.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8


def new_reference() -> str:
    """Eight characters, about 6.6 * 10^11 possibilities; storage enforces uniqueness."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_reference(text: str) -> str:
    """Accept a reference as people write it: any case, with spaces or a hyphen."""
    return "".join(ch for ch in text.upper() if ch.isalnum())
