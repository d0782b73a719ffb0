"""The resident's own name, unit, phone and email, found in free text in every spelling that
can be derived from what they typed into the fields.

- Name: Traditional and Simplified (OpenCC), with or without spaces, the surname with a title
  (陳先生, 陳生, 陳太, Mr Chan), the given name alone (大文, 阿文), Hong Kong, Macau, Pinyin and
  Wade-Giles romanisations in either order and any case (Chan Tai Man, Tai-man Chan, CHEN Dawen),
  and Latin words typed into the field (Peter) alone or with the romanised surname (Peter Chan).
- Unit: units.py reads it into block, floor and flat and writes them back (12B, 十二樓B室).
- Phone: its national number with any separators, widths, numerals and country code.
- Email: as typed, spelt out (chan at example dot com), and its local part alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache

import opencc
from nicknames import NickNamer

from . import segmenter
from .contacts import AT, DOT, phone_digits
from .given_names import GIVEN_NAMES
from .latin_names import given_name_syllables, surname_spellings_all
from .matching import OWN_KINDS, for_matching, is_han, numerals_as_digits, starting_with
from .names import TITLES
from .roles import in_role
from .romanisation import (
    given_name_pattern,
    initials_pattern,
    surname_spellings,
    syllable_pattern,
)
from .surnames import COMPOUND_SURNAMES
from .units import unit_patterns

_NICKNAMES = NickNamer()
_CONVERTERS = [opencc.OpenCC(config) for config in ("t2s", "s2hk", "s2tw", "s2t")]
_LATIN = r"[A-Za-z\u00c0-\u024f]"
_TITLE_BEFORE = r"(?:Mr|Mrs|Ms|Miss|Mdm|Madam|Mister|Dr)\.?\s*"
# Titles in both scripts: the own name is matched on the text as it is.
_OWN_TITLES = sorted({*TITLES, *(converter.convert(title) for converter in _CONVERTERS[1:2]
                                 for title in TITLES), "sir", "Sir", "SIR"}, key=len, reverse=True)


def own_mapping(own: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    values = dict(own or {})
    unknown = set(values) - set(OWN_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of own values: {sorted(unknown)}")
    return {kind: value for kind, value in values.items() if value and value.strip()}


def own_values(matching: str, own: Mapping[str, str], region: str,
               simplified: str) -> Iterator[tuple[int, int, str, bool]]:
    """Spans of the resident's own values in the matching copy of a text."""
    numerals = numerals_as_digits(matching)
    has_latin = re.search(r"[A-Za-z]", matching) is not None
    for kind, value in own.items():
        for pattern, needs_check, latin in _patterns(kind, value, region):
            if latin and not has_latin:
                continue
            copy = numerals if kind == "phone" else matching
            for found in pattern.finditer(copy):  # the span of the group "own" if it has one
                start, end = found.span("own" if "own" in pattern.groupindex else 0)
                if start == end:
                    continue
                if needs_check and (in_role(simplified, start, end)
                                    or _inside_a_word(simplified, start, end)):
                    continue
                yield start, end, kind, True


@lru_cache(maxsize=64)
def _patterns(kind: str, value: str, region: str) -> tuple[tuple[re.Pattern, bool, bool], ...]:
    """Compiled patterns, each with whether a match must be checked against its context (a
    surname with a title may be a member of staff; a given name may be part of a word) and
    whether it needs Latin letters in the text (a romanised name)."""
    value = for_matching(value)
    latin: list[str] = []
    if kind == "name":
        plain, checked, latin = _name_patterns(value)
    elif kind == "unit":
        plain, checked = unit_patterns(value), []
    elif kind == "phone":
        plain, checked = _phone_patterns(value, region), []
    else:
        plain, checked = _email_patterns(value), []
    return tuple((re.compile(pattern, re.IGNORECASE), needs_check, needs_latin)
                 for patterns, needs_check, needs_latin in ((plain, False, False),
                                                            (checked, True, False),
                                                            (latin, False, True))
                 for pattern in patterns)


def _inside_a_word(simplified: str, start: int, end: int) -> bool:
    """大文 in 大文件: the given name is the start or end of a common word around it."""
    if not all(is_han(char) for char in simplified[start:end]):
        return False
    before, after = simplified[max(0, start - 1):start], simplified[end:end + 1]
    for word in (simplified[start:end] + after, before + simplified[start:end],
                 simplified[end - 1:end + 1], simplified[max(0, start - 1):start + 1]):
        if len(word) >= 2 and segmenter.frequency(word) >= 30 and not segmenter.tag(
                word).startswith("nr"):
            return True
    return False


def _char_class(char: str) -> str:
    spellings = {char, *(converter.convert(char) for converter in _CONVERTERS)}
    spellings = {spelling for spelling in spellings if len(spelling) == 1}
    return "[" + "".join(sorted(map(re.escape, spellings))) + "]" if len(spellings) > 1 else \
        re.escape(char)


def _han_run(chars: str) -> str:
    return r"\s*".join(map(_char_class, chars))


def _name_patterns(name: str) -> tuple[list[str], list[str], list[str]]:
    """Patterns of Chinese characters; the same that need checking; patterns of letters."""
    plain, checked, letters = [], [], []
    han = "".join(char for char in name if is_han(char))
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", "".join(" " if is_han(c) else c for c in name))
    latin = starting_with(_LATIN[1:-1], rf"(?<!{_LATIN})(?:{{}})(?!{_LATIN})")
    if len(han) >= 2:
        simplified = segmenter.simplified(han)
        surname_length = 2 if simplified[:2] in {segmenter.simplified(s) for s in
                                                 COMPOUND_SURNAMES} else 1
        surname, given = han[:surname_length], han[surname_length:]
        plain.append(_han_run(han))
        titles = "|".join(map(re.escape, _OWN_TITLES))
        checked.append(rf"(?:{_han_run(surname)})[ \t]?(?:{titles})")
        if len(given) >= 2:
            checked.append(_han_run(given))
        elif given:  # a one-character given name alone only where a clause starts: 芳补充：
            checked.append(rf"(?:(?<=^)|(?<=[\s，。、；：！？,.;:!?「」（）()]))"
                           rf"{_char_class(given)}")
        if given:
            checked.append(rf"阿{_char_class(given[-1])}")
        roman_surname = syllable_pattern(surname_spellings(segmenter.simplified(surname)))
        roman_surname = roman_surname.replace(r"\ ", r"[\s\-]?")
        roman_given = given_name_pattern(given) if given else ""
        forms = [rf"{_TITLE_BEFORE}{roman_surname}"]
        # The romanised surname with a Chinese title (Leong 小姐), unless staff in their role.
        checked.append(latin.format(rf"{roman_surname}[ \t]?(?:先生|生|太太|太|小姐|女士|姑娘)"))
        if roman_given:
            # The given name's syllables, or its initials in capitals (KH Tsang, TSANG K.H.).
            either = roman_given if len(given) < 2 else \
                rf"(?:{roman_given}|(?-i:{initials_pattern(given)}))"
            forms += [rf"{roman_surname}[\s,.\-]*{either}",
                      rf"{either}[\s,.\-]*{roman_surname}"]
            if len(given) >= 2:
                forms.append(roman_given)
        forms += [rf"{re.escape(word)}[\s,]+{roman_surname}" for word in words if len(word) >= 3]
        letters += [latin.format(form) for form in forms]
    # Latin words typed in the field: in their order and with the surname last (Chan Tai Man,
    # Tai Man Chan), with spaces, hyphens or nothing between them.
    if len(words) >= 2 or (words and len(words[0]) >= 4):
        orders = [words, words[1:] + words[:1]] if len(words) > 1 else [words]
        for order in orders:
            body = r"[\s.,·-]*".join(r"[\s-]*".join(map(re.escape, word)) for word in order)
            letters.append(latin.format(body))
        letters += [latin.format(rf"{_TITLE_BEFORE}{re.escape(word)}")
                    for word in words[:1] + words[-1:]]
    # An English given name alone (Mary here, ... thanks, Peter), capitalised as names are: not
    # a surname's spelling nor a syllable of romanised names (Wong, Mei), which alone say little,
    # and not before another capitalised word (José Garcías is someone else).
    given_names = [word for word in words if len(word) >= 3 and word[0].isupper()
                   and word[1:].islower() and word.lower() not in surname_spellings_all()
                   and word.lower() not in given_name_syllables()]
    checked += [latin.format(rf"(?-i:{re.escape(word)}(?![ \t]+[A-ZÀ-Ý]))")
                for word in (*given_names, *_nicknames(given_names))]
    if len(words) >= 2 and words[0] in given_names:  # Sarah W., S. Whitfield
        first, last = map(re.escape, (words[0], words[-1]))
        letters += [latin.format(rf"(?-i:{first}[ \t]+{last[0]}\.?)"),
                    latin.format(rf"(?-i:{first[0]}\.[ \t]*{last})")]
    return plain, checked, letters


def _nicknames(given_names: list[str]) -> list[str]:
    """Their nicknames (Thomas: Tom, Tommy) that are names residents use or too long to be an
    everyday word (not Will, Bill, May)."""
    found = {nickname.capitalize() for name in given_names
             for nickname in _NICKNAMES.nicknames_of(name.lower())}
    return sorted(name for name in found if name in GIVEN_NAMES or len(name) >= 5)


def _phone_patterns(phone: str, region: str) -> list[str]:
    digits = phone_digits(phone, region)
    if len(digits) < 6:
        return []
    country_code = r"(?:(?:\+|00)\s*\(?(?:852|853|886|86)\)?[\s\-]*)?"
    separator = r"[\s\-.·•_/()]{0,2}"
    whole = starting_with("+0-9", rf"(?<![0-9]){country_code}0?" + separator.join(digits)
                          + r"(?![0-9])")
    # Its last four digits after a word for them (手机尾号 7810, last four digits 4567).
    tail = starting_with("尾末後后最lLeE", rf"(?:{_TAIL_CUES})\s*[:：是係系为為]?\s*"
                                          rf"(?P<own>{separator.join(digits[-4:])})(?![0-9])")
    return [whole, tail]


_TAIL_CUES = (r"尾號|尾号|尾數|尾数|末四位|後四位|后四位|最後四位|最后四位|尾四位|"
              r"last\s+(?:4|four)\s+digits?(?:\s+(?:of\s+my\s+(?:phone|number|mobile)|are|is))?|"
              r"ending\s+(?:in|with)")


def _email_patterns(email: str) -> list[str]:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at:
        return [re.escape(email)]
    spelt = re.escape(local) + AT + DOT.join(map(re.escape, domain.split(".")))
    patterns = [re.escape(email), spelt]
    if len(local) >= 5:  # chan.taiman alone, e.g. as a handle
        alone = rf"(?<![A-Za-z0-9._%+\-]){re.escape(local)}(?![A-Za-z0-9_%+\-]|\.[A-Za-z0-9])"
        patterns.append(starting_with(re.escape(local[0]), alone))
    return patterns
