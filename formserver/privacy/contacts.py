"""Phone numbers and email addresses in free text, in every separator, width and numeral style.

Phones: python-phonenumbers decides whether digits are a valid number of Hong Kong, Macau,
Taiwan or the mainland (the region given first), wherever the digits stand: glued to letters
(Tel91234567), spaced one by one (9 1 2 3 4 5 6 7), or written in Chinese numerals (九一二三四五六七).
Emails: plain, full-width (chan＠example。com) and spelt out (chan at example dot com).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from .matching import REGIONS, numerals_as_digits

Candidate = tuple[int, int, str, bool]

_CURRENCY_BEFORE = re.compile(
    r"(?:\$|¥|￥|HKD|RMB|MOP|NTD|NT\$|港幣|港币|人民幣|人民币|澳門幣|澳门币|新台幣|新台币)\s*$",
    re.IGNORECASE,
)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|圓|圆|蚊|塊|块|萬|万|港元|澳門元|HKD|RMB|MOP)", re.IGNORECASE)
# Digits with at most two separators between each (9123 4567, 9 1 2 3 - 4 5 6 7, (852)91234567).
_DIGIT_RUN = re.compile(r"(?<![0-9])(?:\+\s*)?[0-9](?:[ \t.\-_/·•()]{0,2}[0-9]){6,14}(?![0-9])")
_DATE_LIKE = re.compile(r"^(?:19|20)[0-9]{2}[^0-9]+[0-9]{1,2}[^0-9]+[0-9]{1,2}$"
                        r"|^[0-9]{1,2}[^0-9]+[0-9]{1,2}[^0-9]+(?:19|20)[0-9]{2}$"
                        r"|^(?:19|20)[0-9]{2}[^0-9]+(?:19|20)[0-9]{2}$")


def is_amount(matching: str, start: int, end: int) -> bool:
    return bool(_CURRENCY_BEFORE.search(matching[max(0, start - 6):start])
                or _CURRENCY_AFTER.match(matching[end:end + 4]))


def find_phones(matching: str, region: str) -> Iterator[Candidate]:
    regions = [region, *(other for other in REGIONS if other != region)]
    numerals = numerals_as_digits(matching)
    # phonenumbers refuses numbers glued to Latin letters ("Tel91234567"); a copy with the
    # letters blanked out finds those too.
    blanked = re.sub(r"[A-Za-z]", " ", numerals)
    for copy in (matching, blanked):
        for each_region in regions:
            for found in phonenumbers.PhoneNumberMatcher(
                copy, each_region, leniency=phonenumbers.Leniency.VALID
            ):
                if not is_amount(matching, found.start, found.end):
                    yield found.start, found.end, "phone", True
    for found in _DIGIT_RUN.finditer(blanked):
        text = found.group()
        if _DATE_LIKE.match(text) or is_amount(matching, *found.span()):
            continue
        if any(_is_valid(text, each_region) for each_region in regions):
            yield found.start(), found.end(), "phone", True


def _is_valid(text: str, region: str) -> bool:
    digits = re.sub(r"[^0-9+]", "", text)
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(digits, region))
    except phonenumbers.NumberParseException:
        return False


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
_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+-]){_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,}}(?![A-Za-z0-9])"
)
AT = r"(?:\s*@\s*|\s*[\[(（{<【「]\s*at\s*[\])）}>】」]\s*|\s+at\s+|\s*(?:小老鼠|艾特)\s*)"
DOT = r"(?:[.。｡]|\s*[\[(（{<【「]\s*dot\s*[\])）}>】」]\s*|\s+dot\s+|\s*(?:點|点)\s*)"
_SPELT_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+-]){_LOCAL}{AT}{_LABEL}(?:{DOT}{_LABEL})*?{DOT}{_TLD}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_FULL_STOPS = str.maketrans({"。": ".", "｡": ".", "．": "."})


def find_emails(matching: str) -> Iterator[Candidate]:
    copy = matching.translate(_FULL_STOPS)
    for pattern in (_EMAIL, _SPELT_EMAIL):
        for found in pattern.finditer(copy):
            yield found.start(), found.end(), "email", True
