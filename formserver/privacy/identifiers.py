"""Identity card numbers and their check digits: Hong Kong, Taiwan, the mainland."""

from __future__ import annotations

import re

from stdnum.cn import ric

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


def cnid_is_valid(number: str) -> bool:
    """Mainland resident identity card number (18 characters, checked with python-stdnum)."""
    return ric.is_valid(number)

