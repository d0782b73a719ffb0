"""Turn what a resident typed into plain text. The only module that imports bleach."""

from __future__ import annotations

import html
import re
import unicodedata

import bleach

# Control characters, and the invisible ones that reorder or hide text (bidi overrides,
# zero-width characters) in a way a reader cannot see.
CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029"
    r"\u2060-\u2064\u2066-\u2069\ufeff]"
)
SPACES = re.compile(r"\s+")


def plain_text(value: str | None) -> str:
    """Strip markup and control characters; keep line breaks and the characters themselves."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    value = CONTROL.sub("", value)
    if "<" in value:  # without a "<" there is no markup to strip, and html5lib is slow
        # bleach escapes what it keeps (& becomes &amp;); unescape: templates escape on output.
        value = html.unescape(bleach.clean(value, tags=set(), strip=True, strip_comments=True))
    return "\n".join(line.rstrip() for line in value.strip().split("\n"))


def one_line(value: str | None) -> str:
    """Plain text on one line: safe for a mail header or a subject."""
    return SPACES.sub(" ", plain_text(value)).strip()
