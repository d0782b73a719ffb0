"""Vehicle registration plates: mainland and Taiwan shapes on their own, Hong Kong's (AB 1234)
only near a word about cars, and never a car park level (LG2), a parking space (車位 CP 15) or
a car model (Mazda CX 5, Model 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .matching import hinted

Candidate = tuple[int, int, str, bool]

_PROVINCES = (
    "京津沪滬渝冀豫云雲辽遼黑湘皖鲁魯新苏蘇浙赣贛鄂桂甘晋晉蒙陕陝吉闽閩贵貴粤粵青藏川宁寧琼瓊"
)
_MAINLAND_PLATE = re.compile(
    rf"[{_PROVINCES}][A-Za-z][·・•‧. -]?"
    r"(?:[A-Za-z0-9]{5,6}[挂掛學学警]?|[A-Za-z0-9]{4}[港澳])(?![A-Za-z0-9])"
)
_TAIWAN_PLATE = hinted(r"(?<![A-Za-z0-9-])[A-Za-z]{3}-[0-9]{4}(?![A-Za-z0-9-])", "A-Za-z")
# Shapes that are plates only when the text is about cars.
_PLATE_NEEDING_CUE = hinted(
    r"(?<![A-Za-z0-9-])(?:"
    r"[A-HJ-NPR-Z]{2} ?[1-9][0-9]{0,3}"  # Hong Kong: AB 1234 (no I, O or Q)
    r"|[0-9]{4}-[A-Za-z]{2}|[A-Za-z]{2}-[0-9]{4}|[0-9]{3}-[A-Za-z]{3}"  # older Taiwan shapes
    r"|M[A-Z]-?[0-9]{2}-?[0-9]{2}"  # Macau: MA-12-34
    r")(?![A-Za-z0-9-]|[年月日號号樓楼層层座室/:%]|\.[0-9])",
    "A-Za-z0-9",
)
_CAR_CUE = re.compile(r"車|车|泊|plate|vehicle|cars?(?![A-Za-z])|reg\.? ?no|registration|的士|taxi|"
                      r"van(?![A-Za-z])|motor(?:cycle|bike)|scooter|電單|电单|機車|机车|摩托|"
                      r"matr[íi]cula|carro|viatura|autom[óo]vel|mota(?![A-Za-z])",
                      re.IGNORECASE)
_CUE_DISTANCE = 24
# Car park levels, parking spaces and car models that have the shape of a plate.
_LEVEL = re.compile(r"^(?:LG|UG|GF|RF|MF|CP|PL|BF|LB)\s?[0-9]{1,2}$", re.IGNORECASE)
_SPACE_BEFORE = re.compile(
    r"(?:車位|车位|泊位|車格|space|bay|lot|level|層|层|樓|楼|floor|編號|编号)[\s:：#號号]{0,3}$",
    re.IGNORECASE,
)
_MODEL_BEFORE = re.compile(
    r"(?:Model|Mazda|Toyota|Honda|Lexus|BMW|Benz|Mercedes|Tesla|Audi|Volvo|Nissan|Infiniti|"
    r"Hyundai|Kia|BYD|VW|Volkswagen|Porsche|Subaru|Mitsubishi|Ford|比亞迪|比亚迪|萬事得|万事得|"
    r"豐田|丰田|本田|凌志|寶馬|宝马|平治|奔馳|奔驰|特斯拉|奧迪|奥迪|日產|日产|型號|型号|款)\s*$",
    re.IGNORECASE,
)
_MODEL_SHAPE = re.compile(r"^(?:CX|HR|CR|RX|NX|UX|LX|GS|IS|ES|QX|GLA|GLC|EX|ZS|ID|iX|XC|MX)\s?"
                          r"[0-9]{1,3}$", re.IGNORECASE)


def find_plates(matching: str) -> Iterator[Candidate]:
    for found in _MAINLAND_PLATE.finditer(matching):
        if sum(char.isdigit() for char in found.group()) >= 3:
            yield found.start(), found.end(), "plate", True
    for found in _TAIWAN_PLATE.finditer(matching):
        yield found.start(), found.end(), "plate", True
    for found in _PLATE_NEEDING_CUE.finditer(matching):
        start, end = found.span()
        before = matching[max(0, start - _CUE_DISTANCE):start]
        if (_LEVEL.match(found.group()) or _MODEL_SHAPE.match(found.group())
                or _SPACE_BEFORE.search(before) or _MODEL_BEFORE.search(before)):
            continue
        if _CAR_CUE.search(before + found.group() + matching[end:end + _CUE_DISTANCE // 2]):
            yield start, end, "plate", True
