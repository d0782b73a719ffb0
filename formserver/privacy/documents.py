"""Identity documents and dates of birth in free text: identity cards of Hong Kong, Macau, the
mainland (18 and 15 digits) and Taiwan, passports and travel permits after a cue word, and a date
near 出生, 生日, DOB or born."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .identifiers import (
    cnid15_is_valid,
    cnid_is_valid,
    hkid_is_valid,
    moid_is_valid,
    twid_is_valid,
)
from .matching import hinted, scanned_alternation

Candidate = tuple[int, int, str, bool]

_HKID = hinted(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\s?[0-9]{6}\s?(?:\(\s?[0-9Aa]\s?\)|[0-9Aa])(?![A-Za-z0-9])",
    "A-Za-z",
)
_CNID = hinted(
    r"(?<![A-Za-z0-9])[1-9][0-9]{5}[\s-]?(?:[0-9]{8}|[0-9]{4}[\s-]?[0-9]{4})[\s-]?[0-9]{3}[0-9Xx]"
    r"(?![A-Za-z0-9])",
    "1-9",
)
_CNID15 = hinted(r"(?<![A-Za-z0-9])[1-9][0-9]{5}[\s-]?[0-9]{6}[\s-]?[0-9]{3}(?![A-Za-z0-9])", "1-9")
_TWID = hinted(r"(?<![A-Za-z0-9])[A-Za-z]\s?[12ABCDabcd89][0-9]{8}(?![A-Za-z0-9])", "A-Za-z")
_MOID_BRACKETED = hinted(r"(?<![A-Za-z0-9])[1578]\s?[0-9]{6}\s?\(\s?[0-9]\s?\)", "1578")
_MOID_PLAIN = hinted(r"(?<![A-Za-z0-9])[1578]\s?[/-]?[0-9]{6}\s?[/-]?\s?[0-9](?![0-9])", "1578")
_ID_CUE = re.compile(
    r"(?:身份證|身份证|身分證|身分证|證件|证件|BIR[PN]*|ID(?:\s*card)?|identity\s*card|I\.D\.)"
    r"[^0-9\n]{0,10}$",
    re.IGNORECASE,
)
# Hong Kong and mainland passports and travel permits (H/K/E/G/C + 8 digits, EA1234567):
# nothing else in a complaint looks like these.
_DOCUMENT = hinted(r"(?<![A-Za-z0-9])(?:[A-Z][0-9]{8}|E[A-Z][0-9]{7})(?![A-Za-z0-9])", "A-Z")
_DOCUMENT_CUES = (
    "護照", "护照", "passport", "通行證", "通行证", "回鄉證", "回乡证", "台胞證", "台胞证",
    "旅行證件", "旅行证件", "證件", "证件", "permit", "travel document", "簽證", "签证", "visa",
    "單程證", "单程证", "雙程證", "双程证", "居留證", "居留证", "工作證", "工作证", "海員證",
    "身份書", "document", "BNO", "駕駛執照", "驾驶执照", "駕照", "驾照", "license", "licence",
)
_DOCUMENT_AFTER_CUE = re.compile(
    scanned_alternation(_DOCUMENT_CUES, ignore_case=True)
    + r"[^0-9A-Za-z\n]{0,8}(?:(?:no|number|num)(?![A-Za-z])\.?[^0-9A-Za-z\n]{0,3})?"
    r"(?:(?:is|was|係|是|為|为)[^0-9A-Za-z\n]{0,3})?"  # passport no. is P4829175B
    r"(?P<number>[A-Za-z]{0,3}\s?[0-9]{3,5}\s?[0-9]{3,6}[A-Za-z]?)(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def find_documents(matching: str) -> Iterator[Candidate]:
    for pattern, is_valid, kind in (
        (_HKID, hkid_is_valid, "hkid"),
        (_CNID, cnid_is_valid, "cn_id"),
        (_CNID15, cnid15_is_valid, "cn_id"),
        (_TWID, twid_is_valid, "tw_id"),
        (_MOID_BRACKETED, moid_is_valid, "mo_id"),
    ):
        for found in pattern.finditer(matching):
            if is_valid(re.sub(r"[\s-]", "", found.group()).upper()):
                yield found.start(), found.end(), kind, True
    for found in _MOID_PLAIN.finditer(matching):
        if _ID_CUE.search(matching[max(0, found.start() - 24):found.start()]):
            yield found.start(), found.end(), "mo_id", True
    for found in _DOCUMENT.finditer(matching):
        yield found.start(), found.end(), "document", True
    for found in _DOCUMENT_AFTER_CUE.finditer(matching):
        yield found.start("number"), found.end("number"), "document", True


_MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
           r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_CHINESE_NUMBER = "[〇零一二三四五六七八九十]"
_DATE = (
    # (?![0-9]): 14/02/1990 is not 14/02/19 (year, month, day) with 90 left over.
    r"(?:(?:19|20)?[0-9]{2}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]\s*[0-9]{1,2}(?![0-9])\s*[日號号]?"
    r"|[0-9]{1,2}\s*[-/.]\s*[0-9]{1,2}\s*[-/.]\s*(?:19|20)?[0-9]{2}(?![0-9])"
    rf"|[0-9]{{1,2}}(?:st|nd|rd|th)?[\s-]+{_MONTHS}[\s,-]+(?:19|20)[0-9]{{2}}"
    rf"|{_MONTHS}\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)[0-9]{{2}}"
    rf"|{_CHINESE_NUMBER}{{2,4}}年{_CHINESE_NUMBER}{{1,2}}月(?:{_CHINESE_NUMBER}{{1,3}}[日號号])?"
    r"|(?:19|20)[0-9]{2}\s*年\s*[0-9]{1,2}\s*月"
    r"|(?:19|20)[0-9]{6})"
)
_BIRTH_CUES = (
    "出生日期", "出生年月日", "出生年月", "出生於", "出生于", "出生", "出世", "生日",
    r"生(?<![先醫医學学衛卫女]生)[於于]",  # not 陳先生於 2026 年 10 月 (Mr Chan, in October)
    r"D\.?O\.?B\.?", r"date\s+of\s+birth", r"birth\s*date", "birthday", r"born(?:\s+on)?",
)
_BIRTH_AFTER_CUE = re.compile(
    scanned_alternation(_BIRTH_CUES, ignore_case=True)
    + rf"[^0-9\n。，,;；]{{0,8}}?(?P<date>{_DATE})",
    re.IGNORECASE,
)
_BIRTH_AFTER_DATE = re.compile(r"出生|出世|生(?!活|意|產|产|效|病|氣|气|日)")
_DATE_BEFORE = re.compile(rf"(?P<date>{_DATE}|(?<![0-9])(?:19|20)[0-9]{{2}}\s*年)\s*$")  # 1956年生


def find_birth_dates(matching: str) -> Iterator[Candidate]:
    for found in _BIRTH_AFTER_CUE.finditer(matching):
        yield found.start("date"), found.end("date"), "birth_date", True
    for cue in _BIRTH_AFTER_DATE.finditer(matching):  # 1985年6月15日出生
        start = max(0, cue.start() - 24)
        if date := _DATE_BEFORE.search(matching, start, cue.start()):
            yield date.start("date"), date.end("date"), "birth_date", True
