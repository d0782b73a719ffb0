"""Payment numbers in free text: cards that pass the Luhn check (13 to 19 digits, UnionPay's
62 too), and bank accounts after a cue (帳號, 戶口, account, A/C)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .contacts import is_amount
from .identifiers import luhn_is_valid
from .matching import hinted, scanned_alternation

Candidate = tuple[int, int, str, bool]

_CARD = hinted(r"(?<![0-9])[0-9]{4}(?:[ \-]?[0-9]{2,4}){2,4}(?:[ \-]?[0-9]{1,3})?(?![0-9])", "0-9")
_CARD_CUE = re.compile(
    r"(?:卡|card|Visa|Master|UnionPay|銀聯|银联|AE|Amex|信用咭|咭)[^0-9\n]{0,12}$", re.IGNORECASE
)
_ACCOUNT_CUES = (
    "帳號", "帐号", "賬號", "账号", "帳戶", "帐户", "賬戶", "账户", "戶口", "户口", "户頭", "戶頭",
    "銀行戶口", "银行户口", "收款帳號", r"account(?:\s*(?:no|number|#))?\.?", r"a/c(?:\s*no\.?)?",
    r"acct\.?", "轉數快", "转数快", r"FPS(?:\s*ID)?", "IBAN", "SWIFT", "銀行", "银行", "存款",
    "過數", "过数", "轉帳", "转账", "轉賬",
)
_ACCOUNT = re.compile(
    scanned_alternation(_ACCOUNT_CUES, ignore_case=True)
    + r"[^0-9A-Za-z\n]{0,12}(?:(?:is|係|是|為|为)\s*)?"
    r"(?P<number>[0-9](?:[ \-]?[0-9]){5,24})(?![0-9])",
    re.IGNORECASE,
)


def find_payment_numbers(matching: str) -> Iterator[Candidate]:
    for found in _CARD.finditer(matching):
        digits = re.sub(r"[^0-9]", "", found.group())
        if not 13 <= len(digits) <= 19:
            continue
        cued = bool(_CARD_CUE.search(matching[max(0, found.start() - 16):found.start()]))
        union_pay = digits.startswith("62") and len(digits) >= 16
        if luhn_is_valid(digits) or union_pay or cued:
            yield found.start(), found.end(), "card", True
    for found in _ACCOUNT.finditer(matching):
        if not is_amount(matching, found.start("number"), found.end("number")):
            yield found.start("number"), found.end("number"), "account", True
