"""Text prepared for matching (full-width and look-alike characters mapped onto ASCII), the
kinds of personal data, their placeholders, and what a finding is."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

REGIONS = ("HK", "MO", "TW", "CN")

PLACEHOLDERS = {
    "phone": "〔電話已隱藏〕",
    "email": "〔電郵已隱藏〕",
    "hkid": "〔身份證號碼已隱藏〕",
    "cn_id": "〔身份證號碼已隱藏〕",
    "tw_id": "〔身份證號碼已隱藏〕",
    "document": "〔證件號碼已隱藏〕",
    "mo_id": "〔身份證號碼已隱藏〕",
    "card": "〔卡號已隱藏〕",
    "account": "〔帳號已隱藏〕",
    "handle": "〔社交帳號已隱藏〕",
    "url": "〔網址已隱藏〕",
    "address": "〔地址已隱藏〕",
    "birth_date": "〔出生日期已隱藏〕",
    "plate": "〔車牌已隱藏〕",
    "name": "〔姓名已隱藏〕",
    "person": "〔姓名已隱藏〕",  # someone else's: the same label, so the two cannot be told apart
    "unit": "〔單位已隱藏〕",
    "number": "〔號碼已隱藏〕",  # a long number the resident chose to hide
    "other": "〔已隱藏〕",  # words the resident chose to hide
}
PLACEHOLDER = re.compile("〔[^〔〕]{0,12}已隱藏〕")
# In the matching copy a placeholder's words are blanked out, so that 〔電話已隱藏〕 is never a
# cue for the number after it.
BLANKED_PLACEHOLDER = re.compile("〔□{3,15}〕")

OWN_KINDS = ("name", "unit", "phone", "email")

Span = tuple[int, int, str]


@dataclass(frozen=True)
class Finding:
    """Personal data at text[start:end]. certain: hidden without asking; otherwise the resident
    is asked (a name the tagger was unsure of, a long number with no cue)."""

    start: int
    end: int
    kind: str  # a key of PLACEHOLDERS
    certain: bool
    text: str

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]

# Matching runs over a copy of the text with full-width and look-alike characters mapped one to
# one onto ASCII, so that spans found in the copy are spans of the original text.
_TO_ASCII = {
    **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
    "\u3000": " ",
    "\u00a0": " ",
    "\u202f": " ",
    **{chr(code): "-" for code in range(0x2010, 0x2016)},
    "\u2212": "-",
    "\ufe63": "-",
    **{char: str(unicodedata.decimal(char)) for char in map(chr, range(0x660, 0x1_0000))
       if unicodedata.decimal(char, None) is not None and not "\uff10" <= char <= "\uff19"},
}
# A regular expression finds the few characters to map: str.translate with a table this large
# costs over a microsecond for every character of the text.
_NOT_ASCII_YET = re.compile("[" + "".join(map(re.escape, _TO_ASCII)) + "]")


def for_matching(text: str) -> str:
    mapped = _NOT_ASCII_YET.sub(lambda found: _TO_ASCII[found.group()], text)
    if "已隱藏〕" not in mapped:
        return mapped
    return PLACEHOLDER.sub(lambda found: "〔" + "□" * (len(found.group()) - 2) + "〕", mapped)


# Phone numbers read aloud and typed in Chinese numerals (九一二三四五六七), also the financial
# ones of cheques and receipts (玖壹貳參).
_NUMERALS = dict(zip("〇零一二三四五六七八九幺兩两壹貳贰參叁肆伍陸陆柒捌玖",
                     "00123456789122122334566789", strict=True))
NUMERAL_CHARACTERS = "".join(_NUMERALS)
_NUMERAL = re.compile(f"[{NUMERAL_CHARACTERS}]")


def numerals_as_digits(matching: str) -> str:
    """The matching copy with Chinese numerals as digits (one character for one)."""
    return _NUMERAL.sub(lambda found: _NUMERALS[found.group()], matching)


def decimal_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())



def is_han(char: str) -> bool:
    return (
        "\u3400" <= char <= "\u9fff"
        or "\uf900" <= char <= "\ufaff"
        or "\U00020000" <= char <= "\U0003134f"
    )



def merged_windows(spans: Iterable[tuple[int, int]], before: int, after: int,
                   length: int) -> Iterator[tuple[int, int]]:
    """Windows reaching `before` characters before and `after` after each span (in text order),
    overlapping ones merged, within a text of `length` characters."""
    window_start = window_end = -1
    for start, end in spans:
        start, end = max(0, start - before), min(length, end + after)
        if start >= end:
            continue
        if start <= window_end:
            window_end = max(window_end, end)
            continue
        if window_end > window_start:
            yield window_start, window_end
        window_start, window_end = start, end
    if window_end > window_start:
        yield window_start, window_end


def scanned_alternation(alternatives: Iterable[str], *, ignore_case: bool = False,
                        word_start: bool = False) -> str:
    """A regex matching any of `alternatives` (regexes, each starting with a plain character),
    to begin a pattern with, written so that re can scan for it quickly.

    re tries a pattern at every position of the text unless it starts with a literal or a set of
    characters; an alternation of cue words (and any word under IGNORECASE) is neither, and
    costs a millisecond or more on a 5,000-character text. Here the alternatives' first
    characters come first as a case-sensitive set (both cases if the pattern will be compiled
    with ignore_case), then each alternative's rest behind a look-behind for its first
    character, in the order given. word_start: a Latin alternative matches only where a word
    starts, as (?<![A-Za-z]) before it would.
    """
    rests: dict[str, list[str]] = {}
    for alternative in alternatives:
        first = alternative[0].lower() if ignore_case else alternative[0]
        rests.setdefault(first, []).append(alternative[1:])
    firsts, branches = set(), []
    for first, first_rests in rests.items():
        latin = first.isascii() and first.isalpha()
        firsts |= {first, first.swapcase()} if latin and ignore_case else {first}
        guard = r"(?<![A-Za-z].)" if latin and word_start else ""
        branches.append(f"{guard}(?<={re.escape(first)})(?:{'|'.join(first_rests)})")
    first_set = "".join(sorted(map(re.escape, firsts)))
    return f"(?-i:[{first_set}])(?:{'|'.join(branches)})"


def starting_with(first_characters: str, pattern: str) -> str:
    """The pattern behind a look-ahead for the characters it can start with (the contents of a
    set, such as "0-9A-Za-z"): re then passes over every other position at once instead of
    trying the whole pattern there, two to three times faster on Chinese text."""
    return f"(?=[{first_characters}])(?:{pattern})"


# Every pattern compiled by `hinted`: its bare source and flags, and the compiled hinted form,
# for the test that the two match alike.
HINTED: list[tuple[str, int, re.Pattern]] = []


def hinted(pattern: str, first_characters: str, flags: int = 0) -> re.Pattern:
    """The pattern, starting_with its first characters, compiled (for patterns compiled once,
    when their module is imported)."""
    compiled = re.compile(starting_with(first_characters, pattern), flags)
    HINTED.append((pattern, flags, compiled))
    return compiled
