"""The domain's words: who receives a complaint, its categories, follow-up reasons, the
reference and the limits of each answer. Imports nothing heavy (config.py reads it)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime

RECIPIENTS = {"office": "物業管理處", "committee": "業主委員會"}
CATEGORIES = {
    "facilities": "設備設施",
    "service": "管理服務",
    "fees": "收費",
    "emergency": "突發事件",
    "other": "其他",
}
FOLLOW_UP_REASONS = {
    "no_reply": "到期仍未收到回覆",
    "not_satisfied": "對處理結果不滿意，要求複查",
    "more_information": "補充資料",
}
LIMITS = {  # field -> most characters accepted
    "name": 50, "unit": 60, "phone": 30, "email": 254, "respondent": 200, "subject": 80,
    "description": 5000,
    "location": 200, "impact": 1000, "expected_resolution": 2000, "follow_up_ref": 20,
    "follow_up_details": 3000,
    "access_code": 200,  # a typed code, or the grant a status page or an email link gives
    "case_message": 3000, "handled_by": 50, "office_password": 200,
}

# Easy to read aloud over the phone: no 0/O or 1/I/L to confuse.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE = re.compile(r"^\d{8}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}$")


def new_reference(now: datetime) -> str:
    """Unique without a shared counter: the date plus 6 random characters (31⁶ ≈ 9×10⁸ a day)."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
    return f"{now:%Y%m%d}-{code[:3]}-{code[3:]}"


# --- the case (issue: close the loop) ---------------------------------------------------------
# Each step in words a resident understands, as the guidance names them.
STATUSES = {
    "submitted": "已提交",
    "acknowledged": "已受理",
    "in_progress": "處理中",
    "replied": "已回覆",
    "resolved": "已解決",
    "closed": "已結束",
    "reopened": "已重開",
}
OPEN_STATUSES = ("submitted", "acknowledged", "in_progress", "replied", "reopened")
CASE_ACTIONS = {  # the case page's field `action`
    "acknowledge": "受理",
    "reply": "回覆投訴人",
    "replied_directly": "已直接回覆（電話或信件）",
    "resolve": "已解決",
}
ACCESS_CODE = re.compile(r"^[2-9A-HJKMNP-Z]{8}$")


def new_access_code() -> str:
    """查詢碼: 8 characters of the reference's alphabet (31⁸ ≈ 8.5×10¹¹), read out in two halves."""
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


SPACES_AND_DASHES = re.compile(r"[\s\-‐‑–—－_]")


def normal_access_code(typed: str) -> str:
    """As stored: full-width letters and digits made plain, capitals, no spaces or dashes."""
    return SPACES_AND_DASHES.sub("", unicodedata.normalize("NFKC", typed)).upper()


def normal_reference(typed: str) -> str:
    """A reference as printed (20261127-K7Q-4M2) however a keyboard typed it: full-width,
    in lower case, with spaces for dashes or none; anything else is given back as typed."""
    plain = normal_access_code(typed)
    printed = f"{plain[:8]}-{plain[8:11]}-{plain[11:]}"
    return printed if len(plain) == 14 and REFERENCE.match(printed) else typed
