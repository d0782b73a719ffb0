"""Identity card and payment card numbers and their check digits: Hong Kong, Macau, Taiwan,
the mainland; Luhn for cards."""

from __future__ import annotations

import re
from datetime import date

_HKID = re.compile(r"([A-Z]{1,2})([0-9]{6})\(?([0-9A])\)?")


def hkid_is_valid(number: str) -> bool:
    """Hong Kong identity card number, e.g. "A123456(3)" or "A1234563" (case and spaces ignored)."""
    compact = re.sub(r"\s", "", number).upper()
    found = _HKID.fullmatch(compact)
    if found is None or compact.count("(") != compact.count(")"):
        return False
    letters, digits, check = found.groups()
    # A single-letter prefix is padded with a space, which counts as 36.
    values = [36 if char == " " else ord(char) - 55 for char in letters.rjust(2)]
    values += [int(digit) for digit in digits]
    total = sum(value * weight for value, weight in zip(values, range(9, 1, -1), strict=True))
    return (total + (10 if check == "A" else int(check))) % 11 == 0


# The letter of a Taiwan ID stands for a two-digit number; I and O came last.
_TW_LETTER_VALUES = {letter: value for value, letter in enumerate("ABCDEFGHJKLMNPQRSTUVXYWZIO", 10)}
_TWID = re.compile(r"[A-Z][12ABCD89][0-9]{8}")


def twid_is_valid(number: str) -> bool:
    """Taiwan national ID (A123456789) or resident certificate (old AB12345678, new A812345678)."""
    compact = number.strip().upper()
    if _TWID.fullmatch(compact) is None:
        return False
    letter, second, rest = compact[0], compact[1], compact[2:]
    # Old resident certificates carry a second letter; only the last digit of its value counts.
    second_digit = _TW_LETTER_VALUES[second] % 10 if second.isalpha() else int(second)
    tens, units = divmod(_TW_LETTER_VALUES[letter], 10)
    digits = [tens, units, second_digit, *map(int, rest)]
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    return sum(digit * weight for digit, weight in zip(digits, weights, strict=True)) % 10 == 0


def _birth_date_is_plausible(year: int, month: int, day: int, today: date | None = None) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1890, 1, 1) <= born <= (today or date.today())


def cnid_is_valid(number: str) -> bool:
    """Mainland resident identity card number of 18 characters: the ISO 7064 MOD 11-2 check
    character and a birth date that exists. The district code is not checked: numbers issued
    under districts that have since been merged or renamed stay valid for life."""
    compact = number.strip().upper()
    if re.fullmatch(r"[1-9][0-9]{16}[0-9X]", compact) is None:
        return False
    if not _birth_date_is_plausible(int(compact[6:10]), int(compact[10:12]), int(compact[12:14])):
        return False
    total = sum(int(digit) * (2 ** (17 - index) % 11) for index, digit in enumerate(compact[:17]))
    return "10X98765432"[total % 11] == compact[17]


def cnid15_is_valid(number: str) -> bool:
    """The older 15-digit mainland number (until 2013): no check digit, a birth date 19YYMMDD."""
    compact = number.strip()
    if re.fullmatch(r"[1-9][0-9]{14}", compact) is None:
        return False
    return _birth_date_is_plausible(1900 + int(compact[6:8]), int(compact[8:10]),
                                    int(compact[10:12]))


def moid_is_valid(number: str) -> bool:
    """Macau resident identity card (BIR): 1, 5, 7 or 8, six digits and one more digit, printed
    as 1234567(8). Macau publishes no check-digit rule, so only the shape is checked."""
    compact = re.sub(r"[\s()/-]", "", number)
    return re.fullmatch(r"[1578][0-9]{7}", compact) is not None


def luhn_is_valid(digits: str) -> bool:
    """The Luhn check that payment card numbers carry in their last digit."""
    if not digits.isdigit():
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
