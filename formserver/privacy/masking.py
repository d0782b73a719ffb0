"""The resident's own details shortened for display ("陳**", "****4567")."""

from __future__ import annotations

from .identity import BLOCK
from .matching import PLACEHOLDERS, decimal_digits, for_matching


def mask_name(name: str) -> str:
    """Keep the first letter of the name and one star for every other letter."""
    words = name.split()
    if not words:
        return ""
    first, *others = words
    if len(first) == 1 and not others:
        return first + "*"  # a lone letter is the whole name; don't show it as it is
    return " ".join([first[0] + "*" * (len(first) - 1), *("*" * len(word) for word in others)])


def mask_phone(phone: str) -> str:
    digits = decimal_digits(phone)
    if not digits:
        return ""
    return "****" + (digits[-4:] if len(digits) > 4 else "")


def mask_email(email: str) -> str:
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at:
        return "***"
    return local[:1] + "***@" + domain


def mask_unit(unit: str) -> str:
    """Keep only the block: "第3座 12樓 B室" → "第3座", "Block 3, 12/F, Flat B" → "Block 3"."""
    found = BLOCK.search(for_matching(unit))
    if found is None:
        return PLACEHOLDERS["unit"]
    return unit[found.start() : found.end()]

