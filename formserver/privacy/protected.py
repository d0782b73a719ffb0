"""What is never personal data however it looks: this system's reference numbers, work-order,
contract and invoice numbers, the placeholders themselves, and the numbers the public is given
(999, 1823, 12345, the estate's office and committee phones passed in as keep)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from .matching import (
    BLANKED_PLACEHOLDER,
    PLACEHOLDER,
    hinted,
    numerals_as_digits,
    scanned_alternation,
)

# The emergency and government numbers of each region, and those every region knows.
PUBLIC_NUMBERS = {
    "HK": ("999", "112", "992", "1823"),
    "MO": ("999", "110", "112", "120", "119"),
    "TW": ("110", "119", "112", "113", "165", "1950", "1999"),
    "CN": ("110", "119", "120", "122", "12345", "12315", "12369", "12358", "12319", "12328"),
}
COMMON_PUBLIC_NUMBERS = ("999", "1823", "12345", "12315", "110", "119", "120")

_REFERENCE = hinted(
    r"(?<![A-Za-z0-9])(?:20[0-9]{6}-[A-Z0-9]{3}-[A-Z0-9]{3}|[A-Z]{2,4}-20[0-9]{6}-[A-Z0-9]{4,8})"
    r"(?![A-Za-z0-9])"
    # Codes with letters, a year and a number: WO-2026-1187, HK-C-2026-0031, INV/2026/0042.
    r"|(?<![A-Za-z0-9])[A-Z]{1,4}(?:[-/][A-Z]{1,4})?[-/]20[0-9]{2}[-/][0-9A-Z]{2,8}(?![A-Za-z0-9])",
    "2A-Z",
)
_CODE_CUES = (
    "工單", "工单", "工作單", "工作单", "維修單", "维修单", "單號", "单号", "編號", "编号", "合約",
    "合约", "合同", "發票", "发票", "收據", "收据", "訂單", "订单", "個案", "个案", "案件", "參考",
    "参考", "報價單", "报价单", "報告", "报告", "通告", "告示", "檔案", "档案", "報案", "报案",
    "保單", "保单", "索償", "索偿", "申請", "申请", "預約", "预约", "追蹤", "追踪", "運單", "运单",
    "快遞單", "快递单", "流水號", "流水号", "交易號", "交易号", "交易編號", "交易编号",
    # The estate's meters: 電錶 No. 7723-0918, 电表号 E23-118402.
    "電錶", "電表", "电表", "水錶", "水表", "煤氣錶", "煤气表", "燃氣錶", "燃气表", "錶號", "表号",
    r"W\.?O(?![A-Za-z])\.?", r"P\.?O(?![A-Za-z])\.?",
)
_ENGLISH_CODE_CUES = (
    "job", "ticket", "case", "ref(?:erence)?", "invoice", "receipt", "contract", "order",
    "quotation", "notice", "circular", r"work\s+order", "claim", "policy", "report",
    "application", "booking", "tracking", "complaint", "transaction", r"permit\s+application",
    "meter",
)
_CODE_AFTER_CUE = re.compile(
    scanned_alternation((
        *(cue + r"(?:\s*(?:no\.?|number|#|編號|编号|號碼|号码|號|号|:|：|是|係|系|為|为))*"
          for cue in _CODE_CUES),
        *(cue + r"(?:\s*(?:no\.?|numbers?|#|:|refs?\.?|references?|codes?|ids?))+"
          r"(?:\s*(?:is|was|are))?" for cue in _ENGLISH_CODE_CUES),
        r"ref\.",
    ), ignore_case=True, word_start=True)
    + r"\s*"
    # A police report number is letters and digits with spaces between (KLN RN 240315678).
    r"(?P<code>[A-Z]{1,4}(?:[ ][A-Z]{1,4})?[ ][0-9]{5,12}(?![0-9A-Za-z])"
    r"|[A-Za-z0-9](?:[A-Za-z0-9/\-]{0,28}[A-Za-z0-9])?)",
    re.IGNORECASE,
)


# The codes of a list after one cue (booking refs GYM-5521, GYM-5588 and GYM-5610).
_NEXT_CODE = re.compile(r"\s*(?:,|，|、|/|;|and|&|及|和|同|or)\s*"
                        r"(?P<code>[A-Za-z0-9](?:[A-Za-z0-9/\-]{0,28}[A-Za-z0-9])?)", re.IGNORECASE)


def protected_spans(matching: str) -> Iterator[tuple[int, int]]:
    for pattern in (PLACEHOLDER, BLANKED_PLACEHOLDER, _REFERENCE):
        for found in pattern.finditer(matching):
            yield found.span()
    for found in _CODE_AFTER_CUE.finditer(matching):
        if any(char.isdigit() for char in found.group("code")):
            yield found.span("code")
            following = _NEXT_CODE.match(matching, found.end())
            while following and any(char.isdigit() for char in following.group("code")):
                yield following.span("code")
                following = _NEXT_CODE.match(matching, following.end())


_COUNTRY_CODES = ("852", "853", "886", "86", "00852", "00853", "00886", "0086")


@lru_cache(maxsize=64)
def kept_values(keep: tuple[str, ...], region: str) -> tuple[frozenset[str], frozenset[str]]:
    """The digits of kept numbers (with and without a country code), and kept words (an office
    email), from the caller's keep and the region's public numbers. A value's 〔示例〕 mark
    (site.toml's placeholders) is ignored."""
    values = [*PUBLIC_NUMBERS.get(region, ()), *COMMON_PUBLIC_NUMBERS, *keep]
    digits, words = set(), set()
    for value in values:
        value = value.replace("〔示例〕", "").strip()
        value_digits = re.sub(r"[^0-9]", "", numerals_as_digits(value))
        if len(value_digits) >= 3 and not re.search(r"[A-Za-z@]", value):
            digits |= {value_digits, *(code + value_digits for code in _COUNTRY_CODES)}
        elif value:
            words.add(value.casefold())
    return frozenset(digits), frozenset(words)


def is_kept(text: str, digits: frozenset[str], words: frozenset[str]) -> bool:
    """Whether a finding's text is a kept number (in any spelling, with or without the country
    code) or a kept word."""
    if text.strip().casefold() in words:
        return True
    if re.search(r"[A-Za-z@]", text):  # a handle or an address with a public number's digits
        return False
    return re.sub(r"[^0-9]", "", numerals_as_digits(text)) in digits
