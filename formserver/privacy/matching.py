"""Text prepared for matching: full-width and look-alike characters mapped onto ASCII."""

from __future__ import annotations

import unicodedata

REGIONS = ("HK", "MO", "TW", "CN")

PLACEHOLDERS = {
    "phone": "〔電話已隱藏〕",
    "email": "〔電郵已隱藏〕",
    "hkid": "〔身份證號碼已隱藏〕",
    "cn_id": "〔身份證號碼已隱藏〕",
    "tw_id": "〔身份證號碼已隱藏〕",
    "document": "〔證件號碼已隱藏〕",
    "plate": "〔車牌已隱藏〕",
    "name": "〔姓名已隱藏〕",
    "unit": "〔單位已隱藏〕",
}

OWN_KINDS = ("name", "unit", "phone", "email")

Span = tuple[int, int, str]

# Matching runs over a copy of the text with full-width and look-alike characters mapped one to
# one onto ASCII, so that spans found in the copy are spans of the original text.
_TO_ASCII = str.maketrans(
    {
        **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        "\u00a0": " ",
        "\u202f": " ",
        **{chr(code): "-" for code in range(0x2010, 0x2016)},
        "\u2212": "-",
        "\ufe63": "-",
    }
)


def for_matching(text: str) -> str:
    return text.translate(_TO_ASCII)



def decimal_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())



def is_han(char: str) -> bool:
    return (
        "\u3400" <= char <= "\u9fff"
        or "\uf900" <= char <= "\ufaff"
        or "\U00020000" <= char <= "\U0003134f"
    )

