"""Personal data that anyone wrote into free text, found and replaced by labelled placeholders
such as 〔電話已隱藏〕."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

import phonenumbers

from .identifiers import cnid_is_valid, hkid_is_valid, twid_is_valid
from .identity import own_mapping, own_values
from .matching import PLACEHOLDERS, REGIONS, Span, for_matching

_PLACEHOLDER_OR_REFERENCE = re.compile(
    "|".join(map(re.escape, sorted(set(PLACEHOLDERS.values()))))
    # Reference numbers of this system, e.g. HK-20261127-7KQ4.
    + r"|(?<![A-Za-z0-9])[A-Z]{2,4}-20[0-9]{6}-[A-Z0-9]{4,8}(?![A-Za-z0-9])"
)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9])"
)
_HKID_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,2} ?[0-9]{6} ?(?:\([0-9Aa]\)|[0-9Aa])(?![A-Za-z0-9])"
)
_CNID_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])[1-9][0-9]{5} ?[0-9]{8} ?[0-9]{3}[0-9Xx](?![A-Za-z0-9])"
)
_TWID_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][12ABCDabcd89][0-9]{8}(?![A-Za-z0-9])")

# Hong Kong and mainland passports and travel permits (H/K/E/G/C + 8 digits, EA1234567):
# nothing else in a complaint looks like these.
_DOCUMENT = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z][0-9]{8}|E[A-Z][0-9]{7})(?![A-Za-z0-9])")
_DOCUMENT_AFTER_CUE = re.compile(
    r"(?:護照|护照|passport|通行證|通行证|回鄉證|回乡证|台胞證|台胞证|旅行證件|證件|证件|permit)"
    r"[^0-9A-Za-z\n]{0,8}(?:(?:no|number)\b\.?[^0-9A-Za-z\n]{0,3})?"
    r"(?P<number>[A-Za-z]{0,2}[0-9]{7,10})(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_PROVINCES = (
    "京津沪滬渝冀豫云雲辽遼黑湘皖鲁魯新苏蘇浙赣贛鄂桂甘晋晉蒙陕陝吉闽閩贵貴粤粵青藏川宁寧琼瓊"
)
_MAINLAND_PLATE = re.compile(
    rf"[{_PROVINCES}][A-Za-z][·・•‧. -]?"
    r"(?:[A-Za-z0-9]{5,6}[挂掛學学警]?|[A-Za-z0-9]{4}[港澳])(?![A-Za-z0-9])"
)
_TAIWAN_PLATE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z]{3}-[0-9]{4}(?![A-Za-z0-9-])")
# Shapes that are plates only when the text is about cars.
_PLATE_NEEDING_CUE = re.compile(
    r"(?<![A-Za-z0-9-])(?:"
    r"[A-HJ-NPR-Z]{2} ?[1-9][0-9]{0,3}"  # Hong Kong: AB 1234 (no I, O or Q)
    r"|[0-9]{4}-[A-Za-z]{2}|[A-Za-z]{2}-[0-9]{4}|[0-9]{3}-[A-Za-z]{3}"  # older Taiwan shapes
    r")(?![A-Za-z0-9-]|[年月日號号樓楼層层座室/:%]|\.[0-9])"
)
_CAR_CUE = re.compile(r"車|车|泊|停|plate|vehicle|car\b|reg\.? ?no", re.IGNORECASE)
_CUE_DISTANCE = 12

_CURRENCY_BEFORE = re.compile(
    r"(?:\$|¥|￥|HKD|RMB|MOP|NTD|港幣|港币|人民幣|人民币|澳門幣)\s*$", re.IGNORECASE
)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|圓|蚊|塊|块|萬|万|港元|HKD|RMB|MOP)", re.IGNORECASE)



def find_personal_data(
    text: str,
    *,
    region: str = "HK",
    own: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
) -> list[Span]:
    """Spans (start, end, kind) of personal data in text, without overlaps, in text order.

    Kinds are the keys of PLACEHOLDERS. Placeholders already in the text and reference numbers
    of this system are never reported.
    """
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, not {region!r}")
    matching = for_matching(text)
    protected = [found.span() for found in _PLACEHOLDER_OR_REFERENCE.finditer(matching)]
    candidates = [
        *own_values(matching, own, region),
        *_id_numbers(matching),
        *_documents(matching),
        *_plates(matching),
        *((found.start(), found.end(), "email") for found in _EMAIL.finditer(matching)),
        *_phones(matching, region),
    ]
    chosen: list[Span] = []
    taken = list(protected)
    # Longest first, so "+852 9123 4567" wins over a shorter reading of part of it.
    for start, end, kind in sorted(candidates, key=lambda span: span[0] - span[1]):
        if start < end and all(
            end <= other_start or other_end <= start for other_start, other_end in taken
        ):
            chosen.append((start, end, kind))
            taken.append((start, end))
    return sorted(chosen)


def redact_text(
    text: str,
    *,
    region: str = "HK",
    own: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
) -> str:
    """Replace personal data in free text by placeholders such as 〔電話已隱藏〕.

    region: the region tried first for phone numbers without a country code (one of REGIONS).
    own: the resident's own details, as a mapping (or (kind, value) pairs) with the keys
    "name", "unit", "phone" and "email"; each is redacted wherever it appears, also in other
    spellings (without spaces, other spacing of the phone digits, "3座12樓B" for "第3座 12樓 B室").
    """
    own = own_mapping(own)
    # A replacement can make a new identifier visible (a neighbour that was glued to a letter),
    # so repeat until nothing is found. Every round turns text into placeholders, so it ends.
    while spans := find_personal_data(text, region=region, own=own):
        for start, end, kind in reversed(spans):
            text = text[:start] + PLACEHOLDERS[kind] + text[end:]
    return text



def _phones(matching: str, region: str) -> Iterator[Span]:
    regions = [region, *(other for other in REGIONS if other != region)]
    # phonenumbers refuses numbers glued to Latin letters ("Tel91234567"); a second copy with
    # letters blanked out finds those too.
    blanked = re.sub(r"[A-Za-z]", " ", matching)
    for copy in (matching, blanked):
        for each_region in regions:
            for found in phonenumbers.PhoneNumberMatcher(
                copy, each_region, leniency=phonenumbers.Leniency.VALID
            ):
                if not _is_amount(matching, found.start, found.end):
                    yield found.start, found.end, "phone"


def _is_amount(matching: str, start: int, end: int) -> bool:
    return bool(
        _CURRENCY_BEFORE.search(matching[max(0, start - 6) : start])
        or _CURRENCY_AFTER.match(matching[end : end + 4])
    )


def _id_numbers(matching: str) -> Iterator[Span]:
    for pattern, is_valid, kind in (
        (_HKID_IN_TEXT, hkid_is_valid, "hkid"),
        (_CNID_IN_TEXT, cnid_is_valid, "cn_id"),
        (_TWID_IN_TEXT, twid_is_valid, "tw_id"),
    ):
        for found in pattern.finditer(matching):
            if is_valid(found.group().replace(" ", "").upper()):
                yield found.start(), found.end(), kind


def _documents(matching: str) -> Iterator[Span]:
    for found in _DOCUMENT.finditer(matching):
        yield found.start(), found.end(), "document"
    for found in _DOCUMENT_AFTER_CUE.finditer(matching):
        yield found.start("number"), found.end("number"), "document"


def _plates(matching: str) -> Iterator[Span]:
    for found in _MAINLAND_PLATE.finditer(matching):
        if sum(char.isdigit() for char in found.group()) >= 3:
            yield found.start(), found.end(), "plate"
    for found in _TAIWAN_PLATE.finditer(matching):
        yield found.start(), found.end(), "plate"
    for found in _PLATE_NEEDING_CUE.finditer(matching):
        start, end = found.span()
        if _CAR_CUE.search(matching[max(0, start - _CUE_DISTANCE) : end + _CUE_DISTANCE]):
            yield start, end, "plate"


