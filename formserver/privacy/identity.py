"""The resident's own name, unit, phone and email, found in free text in other spellings."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping

import phonenumbers

from .matching import OWN_KINDS, Span, for_matching, is_han

BLOCK = re.compile(
    r"(?:第\s*)?[0-9A-Za-z]{1,3}\s*[座棟栋幢]"
    r"|\b(?:Block|Blk|Tower)\.?\s*[0-9A-Za-z]{1,3}\b",
    re.IGNORECASE,
)


def own_mapping(own: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    values = dict(own or {})
    unknown = set(values) - set(OWN_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of own values: {sorted(unknown)}")
    return {kind: value for kind, value in values.items() if value and value.strip()}



def own_values(
    matching: str, own: Mapping[str, str] | Iterable[tuple[str, str]] | None, region: str
) -> Iterator[Span]:
    builders = {
        "name": _name_patterns,
        "unit": _unit_patterns,
        "phone": lambda value: _phone_patterns(value, region),
        "email": lambda value: [re.escape(value.strip())],
    }
    for kind, value in own_mapping(own).items():
        for pattern in builders[kind](for_matching(value)):
            for found in re.finditer(pattern, matching, re.IGNORECASE):
                yield found.start(), found.end(), kind


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LATIN_LETTER = r"[A-Za-z\u00c0-\u024f]"



def _name_patterns(name: str) -> list[str]:
    patterns = []
    # Chinese names: the characters with any spacing between them.
    han = [char for char in name if is_han(char)]
    if len(han) >= 2:
        patterns.append(r"\s*".join(map(re.escape, han)))
    # Other names: the words in their order and with the surname last (Chan Tai Man, Tai Man
    # Chan), with spaces, hyphens or nothing between them.
    words = _WORD.findall("".join(" " if is_han(char) else char for char in name))
    if len(words) >= 2 or (words and len(words[0]) >= 4):
        orders = [words, words[1:] + words[:1]] if len(words) > 1 else [words]
        for order in orders:
            body = r"[\s.,·-]*".join(r"[\s-]*".join(map(re.escape, word)) for word in order)
            patterns.append(rf"(?<!{_LATIN_LETTER}){body}(?!{_LATIN_LETTER})")
    return patterns


_UNIT_TOKEN = re.compile(r"[0-9A-Za-z]+|[^\s0-9A-Za-z,，、/.\-]")
_OPTIONAL_UNIT_WORDS = {"第", "室", "flat", "room", "rm", "unit"}


def _unit_patterns(unit: str) -> list[str]:
    def pattern_of(tokens: list[str]) -> str:
        separator = r"[\s,，、/.\-]*"
        body = ""
        for index, token in enumerate(tokens):
            optional = token.lower() in _OPTIONAL_UNIT_WORDS
            if index == 0:
                body = f"(?:{re.escape(token)}{separator})?" if optional else re.escape(token)
            elif optional:  # the separator goes with the word, so "B室" never ends in a comma
                body += f"(?:{separator}{re.escape(token)})?"
            else:
                body += separator + re.escape(token)
        return rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])"

    tokens = _UNIT_TOKEN.findall(unit)
    if not any(token.isdigit() for token in tokens):
        return []
    patterns = [pattern_of(tokens)]
    # The floor and flat alone ("12樓B室") also point at the resident.
    block = BLOCK.search(unit)
    if block is not None:
        rest = _UNIT_TOKEN.findall(unit[: block.start()] + " " + unit[block.end() :])
        if sum(token.isalnum() and token.isascii() for token in rest) >= 2:
            patterns.append(pattern_of(rest))
    return patterns


def _phone_patterns(phone: str, region: str) -> list[str]:
    digits = re.sub(r"[^0-9]", "", phone)
    with contextlib.suppress(phonenumbers.NumberParseException):
        digits = str(phonenumbers.parse(phone, region).national_number)
    if len(digits) < 6:
        return []
    country_code = r"(?:(?:\+|00)\s*\(?(?:852|853|886|86)\)?[\s-]*)?"
    return [rf"(?<![0-9]){country_code}0?" + r"[\s-]?".join(digits) + r"(?![0-9])"]

