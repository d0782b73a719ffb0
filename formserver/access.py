"""Who may open a case: the office through a link in its email, the resident with the access
code (查詢碼) from the confirmation page, or with a grant the server gave them (a signed link
in the satisfaction email, a form on the status page they opened with the code).

Links and codes are stored only as keyed hashes (crypto.keyed_hash). A link is a random
192-bit token in the query string, not the path, so access logs (which drop query strings)
never hold it; it expires after CASE_LINK_DAYS and can be revoked.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from . import cases
from .crypto import keyed_hash
from .editions import prefix_of
from .vocabulary import normal_access_code, normal_reference

LINK_BYTES = 24  # 192 bits
# The one answer to a wrong reference and to a wrong code alike.
NO_SUCH_CASE = ("找不到這個投訴，或查詢碼不正確。請檢查確認頁或確認電郵上的投訴編號和查詢碼；"
                "如忘記了，請致電管理處。")


@dataclass(frozen=True)
class Link:
    token: str
    hash: str
    url: str
    expires_at: datetime


def base_url(config) -> str:
    """The site's address from site.toml (base_url): the links in emails start with it."""
    return config["SITE"].get("base_url", "").rstrip("/")


def case_url(token: str, config) -> str:
    return f"{base_url(config)}/case?token={token}"


def file_url(token: str, number: int, config) -> str:
    """Evidence file `number` of the case the link opens (views/cases.py serves it)."""
    return f"{base_url(config)}/case/file?token={token}&n={number}"


def status_url(config, edition: str = "hant") -> str:
    """The resident's status page, in the script they wrote in."""
    return f"{base_url(config)}{prefix_of(edition)}/status"


def link_hash(token: str, secret: str) -> str:
    return keyed_hash(token, secret, "case link")


def new_link(config, now: datetime) -> Link:
    """A fresh link (not yet stored: cases.add_link stores its hash with the case)."""
    token = secrets.token_urlsafe(LINK_BYTES)
    return Link(token, link_hash(token, config["SECRET_KEY"]), case_url(token, config),
                now + timedelta(days=config["CASE_LINK_DAYS"]))


def issue_link(db, reference: str, config, now: datetime) -> Link:
    link = new_link(config, now)
    cases.add_link(db, reference, link.hash, link.expires_at)
    return link


def case_for_token(db, token: str, config, now: datetime) -> cases.Case | None:
    if not token or len(token) > 100:
        return None
    return cases.case_for_link(db, link_hash(token, config["SECRET_KEY"]), now)


def access_hash(reference: str, code: str, secret: str) -> str:
    """The reference is part of what is hashed: the same code opens no other case."""
    return keyed_hash(f"{reference.upper()}:{normal_access_code(code)}", secret, "access code")


def serializer(secret: str, issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    """Signs and checks the resident's links; issued_at (a clock passed in) stamps them at
    another time than now."""
    if issued_at is None:
        return URLSafeTimedSerializer(secret, salt="case-access")

    class StampedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(issued_at.timestamp())

    return URLSafeTimedSerializer(secret, salt="case-access", signer=StampedThen)


def grant(reference: str, secret: str, issued_at: datetime | None = None) -> str:
    return serializer(secret, issued_at).dumps(reference.upper())


def granted(token: str, config) -> str | None:
    """The reference a grant opens; None when it is not one, expired or forged."""
    try:
        reference = serializer(config["SECRET_KEY"]).loads(
            token, max_age=config["CASE_LINK_DAYS"] * 86400)
    except BadData:
        return None
    return reference if isinstance(reference, str) else None


def case_for_code(db, reference: str, code: str, config) -> cases.Case | None:
    """The case when the code (or a grant) opens it; None for a wrong reference and a wrong
    code alike, after the same work."""
    reference = normal_reference((reference or "").strip().upper())
    if code and granted(code, config) == reference:
        return cases.load(db, reference)
    stored = cases.secrets_of(db, reference)
    expected = access_hash(reference, code or "", config["SECRET_KEY"])
    matches = hmac.compare_digest(expected, stored[0] if stored else "-" * len(expected))
    if matches and stored and normal_access_code(code or ""):
        return cases.load(db, reference)
    return None
