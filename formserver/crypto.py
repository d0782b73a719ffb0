"""Keys derived from SECRET_KEY, one per purpose, and what the case store does with them: the
resident's email sealed at rest (Fernet: AES-128-CBC with HMAC-SHA256, authenticated, from the
`cryptography` package rather than hand-made), and keyed hashes of the credentials (the office's
case links, the resident's access codes), so that a copy of the store alone opens nothing.

Changing SECRET_KEY makes every stored email unreadable and every link and access code invalid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@lru_cache(maxsize=16)
def derived_key(secret: str, purpose: str) -> bytes:
    """32 bytes for one purpose; HKDF keeps the purposes' keys independent of each other."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"estate-complaints {purpose}".encode()).derive(secret.encode())


def fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(secret, "case email v1")))


def seal(text: str, secret: str) -> str:
    return fernet(secret).encrypt(text.encode()).decode("ascii")


def unseal(token: str, secret: str) -> str | None:
    """The sealed text, or None when it cannot be opened (another key, or tampered with)."""
    try:
        return fernet(secret).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None


def keyed_hash(value: str, secret: str, purpose: str) -> str:
    return hmac.new(derived_key(secret, purpose), value.encode(), hashlib.sha256).hexdigest()
