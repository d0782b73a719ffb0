"""Phone numbers and email addresses in free text, in every separator, width and numeral style.

Phones: python-phonenumbers decides whether a run of digits is a valid number of Hong Kong,
Macau, Taiwan or the mainland (the region given first), wherever the digits stand: glued to
letters (Tel91234567), spaced one by one (9 1 2 3 4 5 6 7), or in Chinese numerals
(九一二三四五六七).
Its own matcher is not used: it walks the whole text once per region, about ten times slower.
Emails: plain, full-width (chan＠example。com) and spelt out (chan at example dot com).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import phonenumbers

from .matching import NUMERAL_CHARACTERS, REGIONS, hinted, numerals_as_digits

Candidate = tuple[int, int, str, bool]

_CURRENCY_BEFORE = re.compile(
    r"(?:\$|¥|￥|HKD|RMB|MOP|NTD|NT\$|港幣|港币|人民幣|人民币|澳門幣|澳门币|新台幣|新台币)\s*$",
    re.IGNORECASE,
)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|圓|圆|蚊|塊|块|萬|万|港元|澳門元|HKD|RMB|MOP)",
                             re.IGNORECASE)
# Digits with at most three separators between each (9123 4567, 9 1 2 3 - 4 5 6 7, (852)91234567).
_DIGIT_RUN = hinted(r"(?<![0-9])(?:\+\s*)?[0-9](?:[ \t.\-_/·•()]{0,3}[0-9]){6,14}(?![0-9])", "+0-9")
_DATE_LIKE = re.compile(r"^(?:19|20)[0-9]{2}[^0-9]+[0-9]{1,2}[^0-9]+[0-9]{1,2}$"
                        r"|^[0-9]{1,2}[^0-9]+[0-9]{1,2}[^0-9]+(?:19|20)[0-9]{2}$"
                        r"|^(?:19|20)[0-9]{2}[^0-9]+(?:19|20)[0-9]{2}$")


def is_amount(matching: str, start: int, end: int) -> bool:
    return bool(_CURRENCY_BEFORE.search(matching[max(0, start - 6):start])
                or _CURRENCY_AFTER.match(matching[end:end + 4]))


# A word about phoning just before the number: then the number's shape is enough, even if
# phonenumbers does not know its prefix yet (newly allocated ranges).
_PHONE_CUE = re.compile(
    r"(?:電話|电话|致電|致电|手機|手机|手提|聯絡|联络|联系|聯繫|打|call|tel|phone|mobile|whatsapp|"
    r"signal|text|sms|電|电)[^0-9\n]{0,8}$",
    re.IGNORECASE,
)
_TWO_NUMBER_WORDS = re.compile(
    r"(?:double|triple|zero|one|two|three|four|five|six|seven|eight|nine)"
    r"[\s,\-]+(?:double|triple|zero|oh|o|one|two|three|four|five|six|seven|eight|nine)\b")
_CUED_SHAPES = re.compile(r"[235679][0-9]{7}|[268][0-9]{7}|09[0-9]{8}|1[3-9][0-9]{9}")


# One or two numerals after a number and before a word: the sentence's (打過 2345 6789 三次),
# not more of the number (9123四567 and 6123-四五六七 are written to hide it).
_NUMERALS_BY_DIGITS = re.compile(
    rf"(?<=[0-9])[ \t]{{1,3}}(?P<numerals>[{NUMERAL_CHARACTERS}]{{1,2}})"
    rf"(?=[\u4e00-\u9fff])(?![{NUMERAL_CHARACTERS}])")


def find_phones(matching: str, region: str) -> Iterator[Candidate]:
    regions = (region, *(other for other in REGIONS if other != region))
    # Chinese numerals as digits, and Latin letters blanked out (Tel91234567).
    copy = re.sub(r"[A-Za-z]", " ", numerals_as_digits(matching))
    for found in _NUMERALS_BY_DIGITS.finditer(matching):
        start, end = found.span("numerals")
        copy = copy[:start] + " " * (end - start) + copy[end:]
    for found in _DIGIT_RUN.finditer(copy):
        if _DATE_LIKE.match(found.group()) or is_amount(matching, *found.span()):
            continue
        phones = list(_phones_in_run(copy, found.start(), found.end(), regions))
        digits = re.sub(r"[^0-9]", "", found.group())
        if not phones and _CUED_SHAPES.fullmatch(_COUNTRY.sub("", digits)) and _PHONE_CUE.search(
                matching[max(0, found.start() - 16):found.start()]):
            phones = [(found.start(), found.end(), "phone", True)]
        yield from phones
    if _TWO_NUMBER_WORDS.search(matching.lower()):  # cheaper than the whole pattern
        yield from find_spelt_phones(matching, region)


_DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3",
                "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_DIGIT_WORD = rf"(?:(?:double|triple)\s+)?(?:{'|'.join(_DIGIT_WORDS)})"
# A number spelt out in English words (nine one two three, four five six seven; double six).
_SPELT_DIGITS = hinted(rf"(?<![A-Za-z]){_DIGIT_WORD}(?:[\s,\-]+{_DIGIT_WORD}){{3,}}(?![A-Za-z])",
                       "A-Za-z", re.IGNORECASE)


def find_spelt_phones(matching: str, region: str) -> Iterator[Candidate]:
    """Phones written out in English number words, when their digits make a valid number."""
    regions = (region, *(other for other in REGIONS if other != region))
    for found in _SPELT_DIGITS.finditer(matching):
        digits, repeat = "", 1
        for word in re.findall(r"[a-z]+", found.group().lower()):
            if word in ("double", "triple"):
                repeat = 2 if word == "double" else 3
            else:
                digits, repeat = digits + _DIGIT_WORDS[word] * repeat, 1
        if 7 <= len(digits) <= 15 and any(valid_phone(digits, False, other) for other in regions):
            yield found.start(), found.end(), "phone", True


def _phones_in_run(copy: str, start: int, end: int, regions) -> Iterator[Candidate]:
    """The longest valid numbers in a run of digit groups, left to right: a run may hold two
    numbers (9123 4567 6123 4567) or a number and something else."""
    groups = [found.span() for found in re.finditer(r"[0-9]+", copy[start:end])]
    first = 0
    while first < len(groups):
        for last in range(len(groups), first, -1):
            group_start, group_end = start + groups[first][0], start + groups[last - 1][1]
            if copy[max(0, group_start - 2):group_start].lstrip().startswith("+"):
                group_start = copy.rindex("+", 0, group_start)
            text = copy[group_start:group_end]
            digits = re.sub(r"[^0-9]", "", text)
            if 7 <= len(digits) <= 15 and any(valid_phone(digits, text.startswith("+"), region)
                                              for region in regions):
                if copy[group_start - 1:group_start] == "(" and ")" in text:  # (02) 2345-6789
                    group_start -= 1
                yield group_start, group_end, "phone", True
                first = last
                break
        else:
            first += 1


# The shapes of national numbers (trunk prefix kept), to spare phonenumbers the hopeless ones.
_SHAPES = {
    "HK": re.compile(r"[2-9][0-9]{7}"),
    "MO": re.compile(r"[268][0-9]{7}"),
    "TW": re.compile(r"0?[2-9][0-9]{7,8}"),
    "CN": re.compile(r"1[3-9][0-9]{9}|0[1-9][0-9]{8,10}"),
}
_COUNTRY = re.compile(r"^(?:\+|00)?(852|853|886|86)")


@lru_cache(maxsize=4096)
def valid_phone(digits: str, international: bool, region: str) -> bool:
    """Whether the digits (written after a + if international) are a valid number of the
    region, or of any country when they start with its code."""
    national = _COUNTRY.sub("", digits) if _COUNTRY.match(digits) else digits
    if not (_SHAPES[region].fullmatch(national) or _COUNTRY.match(digits)):
        return international and _possible_abroad(digits)
    options = ["+" + digits] if international else [digits]
    if digits.startswith("00"):
        options.append("+" + digits[2:])
    elif _COUNTRY.match(digits):
        options.append("+" + digits)
    for option in options:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(option, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _possible_abroad(digits: str) -> bool:
    """A number written with + and another country's code (+44 7700 900123): phonenumbers'
    length check only, as new and fictional ranges of other countries are still phones."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_country_code(number.country_code) != "ZZ" and \
        phonenumbers.is_possible_number(number)


def phone_digits(phone: str, region: str) -> str:
    """The national number of a phone (country code and trunk prefix dropped), or its digits."""
    digits = re.sub(r"[^0-9]", "", numerals_as_digits(phone))
    try:
        return str(phonenumbers.parse(phone, region).national_number)
    except phonenumbers.NumberParseException:
        return digits


_TLD = (r"(?:com|net|org|edu|gov|info|biz|io|me|co|hk|mo|tw|cn|uk|us|au|sg|jp|ca|de|fr|ai|app|"
        r"xyz|top|site|online|mail)")
_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+-]*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = hinted(
    rf"(?<![A-Za-z0-9._%+-]){_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}(?![A-Za-z0-9])",
    "A-Za-z0-9",
)
AT = r"(?:\s*@\s*|\s*[\[(（{<【「]\s*at\s*[\])）}>】」]\s*|\s+at\s+|\s*(?:小老鼠|艾特)\s*)"
DOT = r"(?:[.。｡]|\s*[\[(（{<【「]\s*dot\s*[\])）}>】」]\s*|\s+dot\s+|\s*(?:點|点)\s*)"
_SPELT_EMAIL = hinted(
    rf"(?<![A-Za-z0-9._%+-]){_LOCAL}{AT}{_LABEL}(?:{DOT}{_LABEL})*?{DOT}{_TLD}(?![A-Za-z0-9])",
    "A-Za-z0-9", re.IGNORECASE,
)
_FULL_STOPS = str.maketrans({"。": ".", "｡": "."})


_MAYBE_SPELT = hinted(r"(?<![A-Za-z])at(?![A-Za-z])|小老鼠|艾特", "Aa小艾", re.IGNORECASE)


def find_emails(matching: str) -> Iterator[Candidate]:
    copy = matching.translate(_FULL_STOPS)
    patterns = ([_EMAIL] if "@" in copy else []) + ([_SPELT_EMAIL] if "@" in copy
                                                      or _MAYBE_SPELT.search(copy) else [])
    for pattern in patterns:
        for found in pattern.finditer(copy):
            yield found.start(), found.end(), "email", True
