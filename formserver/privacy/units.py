"""The resident's unit read into block, floor and flat, and written back in the ways residents
write it: 12B, 12樓B室, 十二樓B室, Flat B, 12/F, B座1203, 1203室 for B座12樓03室."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .matching import for_matching, starting_with

CHINESE_DIGITS = "〇一二三四五六七八九"
_CHINESE_NUMBER = "[〇零一二三四五六七八九十兩两]+"

_BLOCK = re.compile(
    rf"(?:第\s*)?(?P<block>[0-9A-Za-z]{{1,3}}|{_CHINESE_NUMBER})\s*(?:座|棟|栋|幢|號樓|号楼)"
    r"|(?<![A-Za-z])(?:Block|Blk|Bloco|Tower|Tower\s+No)\.?\s*(?P<block_en>[0-9A-Za-z]{1,3})"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_ENTRANCE = re.compile(r"(?P<entrance>[0-9]{1,2})\s*(?:單元|单元)")
_FLOOR = re.compile(
    rf"(?P<floor>[0-9]{{1,3}}|{_CHINESE_NUMBER})\s*(?:字樓|樓|楼|層|层)"
    r"|(?P<floor_en>[0-9]{1,3})\s*(?:/\s*F|F|(?:st|nd|rd|th)?\s*floor|[º°]?\s*andar)(?![A-Za-z])"
    r"|(?<![A-Za-z])Floor\s*(?P<floor_after>[0-9]{1,3})(?![0-9])",
    re.IGNORECASE,
)
_FLAT = re.compile(
    r"(?P<flat>[0-9A-Za-z]{1,4})\s*(?:室|號|号|房)"
    r"|(?<![A-Za-z])(?:Flat|Rm|Room|Unit|Apt)\.?\s*(?P<flat_en>[0-9A-Za-z]{1,5})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_FLAT_AFTER_FLOOR = re.compile(
    r"(?:字樓|樓|楼|層|层|/\s*F|F|andar)[\s,，]*(?:之|-)?\s*(?P<flat>[A-Za-z]|[0-9]{1,2})"
    r"(?![0-9A-Za-z座棟栋幢])",
    re.IGNORECASE,
)
_FLOOR_AND_FLAT = re.compile(
    r"(?<![0-9A-Za-z])(?P<floor>[0-9]{1,3})\s*-?\s*(?P<flat>[A-Za-z])(?![0-9A-Za-z])"
)
_ROOM_NUMBER = re.compile(r"(?<![0-9])(?P<room>[0-9]{3,4})(?![0-9])")


@dataclass(frozen=True)
class Unit:
    block: str = ""
    entrance: str = ""
    floor: str = ""  # Arabic digits
    flat: str = ""  # a letter, or digits


def chinese_number(number: int) -> str:
    """1..99 in Chinese numerals: 12 → 十二, 20 → 二十, 3 → 三."""
    tens, units = divmod(number, 10)
    if number < 10:
        return CHINESE_DIGITS[number]
    return ((CHINESE_DIGITS[tens] if tens > 1 else "") + "十"
            + (CHINESE_DIGITS[units] if units else ""))


def arabic_number(text: str) -> str:
    """十二 → 12, 二十 → 20, 一二 → 12; digits stay digits."""
    if text.isdigit():
        return str(int(text))
    values = {char: index for index, char in enumerate(CHINESE_DIGITS)}
    values |= {"零": 0, "兩": 2, "两": 2}
    if "十" not in text:
        return str(int("".join(str(values[char]) for char in text)))
    tens, _, units = text.partition("十")
    return str((values[tens] if tens else 1) * 10 + (values[units] if units else 0))


def _first(found: re.Match | None, *groups: str) -> str:
    if found is None:
        return ""
    return next((found.group(group) for group in groups if found.group(group)), "")


def parse_unit(unit: str) -> Unit:
    """Block, entrance, floor and flat of what the resident typed; what is missing is ""."""
    text = for_matching(unit)
    block = _first(_BLOCK.search(text), "block", "block_en")
    entrance = _first(_ENTRANCE.search(text), "entrance")
    rest = _BLOCK.sub(" ", _ENTRANCE.sub(" ", text))
    floor = _first(_FLOOR.search(rest), "floor", "floor_en", "floor_after")
    flat = _first(_FLAT.search(_FLOOR.sub(" ", rest)), "flat", "flat_en")
    flat = flat or _first(_FLAT_AFTER_FLOOR.search(rest), "flat")
    if found := _FLOOR_AND_FLAT.fullmatch(flat):  # Flat 12B
        floor, flat = floor or found.group("floor"), found.group("flat")
    if floor and flat.isdigit() and len(flat) >= 3 and flat.startswith(floor):  # Rm 1203, 12/F
        flat = flat[len(floor):]
    if not floor and flat.isdigit() and len(flat) >= 3:  # 1203室 is floor 12, flat 03
        floor, flat = flat[:-2], flat[-2:]
    if not floor and not flat:
        if found := _FLOOR_AND_FLAT.search(rest):  # 12B
            floor, flat = found.group("floor"), found.group("flat")
        elif found := _ROOM_NUMBER.search(rest):  # 1203
            floor, flat = found.group("room")[:-2], found.group("room")[-2:]
    if floor and not floor.isdigit():
        floor = arabic_number(floor)
    if block and not block.isascii():
        block = arabic_number(block)
    return Unit(block.upper(), entrance, str(int(floor)) if floor else "", flat.upper())


_SEP = r"[\s,，、/.\-]*"
# 7.º andar, and 7.º alone before a flat letter (Bloco 3, 7.º F).
_FLOOR_WORD = (r"(?:字樓|樓|楼|層|层|/\s*F|F|(?:st|nd|rd|th)?\s*floor|\.?\s*[º°]?\s*andar"
               r"|\.?\s*[º°](?=\s*[A-Za-z]))")
_FLAT_WORD = r"(?:Flat|Rm|Room|Unit|Apt)\.?"
_ROOM_WORD = r"(?:室|號|号|房)"
# 1203 is a room only if it is not an amount, a time or a measure.
_NOT_A_QUANTITY = (r"(?!\s*(?:元|蚊|塊|块|萬|万|%|:|年|月|日|時|时|點|点|分|秒|"
                   r"kg|公斤|呎|尺|米|cm|mm))")


def _alternatives(*options: str) -> str:
    return "(?:" + "|".join(option for option in options if option) + ")"


def _number_forms(number: str) -> str:
    """A number as digits and in Chinese numerals, as a number (十二) and digit by digit
    (一五零二)."""
    forms = [re.escape(number)]
    if number.isdigit():
        if str(int(number)) != number:
            forms.append(str(int(number)))
        if int(number) < 100:
            forms.append(chinese_number(int(number)))
        forms += {"".join(CHINESE_DIGITS[int(digit)] for digit in number),
                  "".join("零" if digit == "0" else CHINESE_DIGITS[int(digit)] for digit in number)}
    return _alternatives(*dict.fromkeys(forms))


def _block_before(parsed: Unit) -> str:
    """The block (and entrance) as written before the floor, or "" when the unit has none."""
    if not parsed.block:
        return ""
    block = _number_forms(parsed.block)
    before = (rf"(?:(?:第\s*)?{block}\s*(?:座|棟|栋|幢|號樓|号楼)"
              rf"|(?:Block|Blk|Bloco|Tower)\.?\s*{block}|{block}(?=[\s\-]?[0-9]))")
    if parsed.entrance:
        before += rf"(?:{_SEP}{_number_forms(parsed.entrance)}\s*(?:單元|单元))?"
    return before


def unit_patterns(unit: str) -> list[str]:
    """Regular expressions (for matching.for_matching text, case ignored) for the unit's floor
    and flat, with the block and entrance when they are written next to them. The block alone
    (第3座) is not the resident's: the whole block shares it; but a block and a floor are
    when the unit has no flat (A棟5樓, a Taiwan floor that is one home)."""
    parsed = parse_unit(unit)
    start = f"0-9A-Za-z第#{CHINESE_DIGITS}十"
    if parsed.floor and not parsed.flat and parsed.block:
        floor = _number_forms(parsed.floor)
        return [starting_with(start, rf"(?<![0-9A-Za-z]){_block_before(parsed)}{_SEP}{floor}"
                                     rf"{_SEP}{_FLOOR_WORD}(?![0-9A-Za-z]){_NOT_A_QUANTITY}")]
    if not parsed.floor or not parsed.flat:
        return []
    floor = _number_forms(parsed.floor)
    flats = [re.escape(parsed.flat)]
    if parsed.flat.isdigit() and int(parsed.flat):
        flats += [str(int(parsed.flat)), chinese_number(int(parsed.flat))]
    flat = _alternatives(*flats)
    end = r"(?![0-9A-Za-z座棟栋幢])"
    # A flat of digits needs the floor's word (12樓03室): 1203 alone is the room number below.
    # Taiwan writes the flat after 之 (7樓之3, 7F-3).
    floor_word = rf"{_FLOOR_WORD}{_SEP}(?:之{_SEP})?"
    floor_word = floor_word if parsed.flat.isdigit() else rf"(?:{floor_word})?"
    floor_then_flat = (rf"{floor}{_SEP}{floor_word}(?:{_FLAT_WORD}{_SEP})?{flat}"
                       rf"(?:{_SEP}{_ROOM_WORD})?{end}{_NOT_A_QUANTITY}")
    # English puts words between them: Flat 15 on 3/F of Tower 2.
    joiner = rf"{_SEP}(?:(?:on|of|at|in)\s+(?:the\s+)?)?"
    flat_then_floor = rf"{_FLAT_WORD}{_SEP}{flat}{joiner}{floor}{_SEP}{_FLOOR_WORD}(?![A-Za-z])"
    forms = [floor_then_flat, flat_then_floor]
    if parsed.flat.isdigit():  # 1203, Room 1203, 1203室, 一二零三
        room = _number_forms(parsed.floor + parsed.flat.zfill(2))
        forms.append(rf"(?:{_FLAT_WORD}{_SEP}|#\s*)?{room}(?:{_SEP}{_ROOM_WORD})?(?![0-9]){_NOT_A_QUANTITY}")
    before = rf"(?:{_block_before(parsed)}{_SEP})?" if parsed.block else ""
    block = re.escape(parsed.block)
    after = (rf"(?:{joiner}(?:(?:Block|Blk|Bloco|Tower)\.?\s*{block}(?![0-9A-Za-z])"
             rf"|(?:第\s*)?{block}\s*(?:座|棟|栋|幢)))?") if parsed.block else ""
    patterns = [starting_with(start, rf"(?<![0-9A-Za-z]){before}{_alternatives(*forms)}{after}")]
    if parsed.block.isalpha() and parsed.flat.isdigit():  # Taiwan's B7-3 for B棟7樓之3
        patterns.append(starting_with(start, rf"(?<![0-9A-Za-z]){block}\s*{floor}\s*-\s*{flat}"
                                             r"(?![0-9A-Za-z\-])"))
    return patterns
