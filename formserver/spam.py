"""Spam checks without outside services: a field people never see, and when the form was shown
(in a token signed by the server and bound to the session it was shown in, so it cannot be
replayed by fresh sessions). The token also says which draft the form changes, if any."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import current_app, session
from itsdangerous import BadData, URLSafeSerializer


@dataclass(frozen=True)
class FormStart:
    at: float  # when the form was shown (the server's clock)
    draft: str  # the draft this form changes; "" for a new complaint


def serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="form-started")


def session_mark() -> str:
    """A random mark of this session (a new complaint starts a new one)."""
    return session.setdefault("form_session", secrets.token_urlsafe(12))


def started_token(draft_id: str = "") -> str:
    return serializer().dumps([time.time(), session_mark(), draft_id or ""])


def form_start(form) -> FormStart | None:
    """When, and for which draft, this session was shown the form; None for a token that
    is forged, or was given to another session."""
    try:
        at, mark, draft = serializer().loads(form.form_started.data or "")
        at, draft = float(at), str(draft)
    except (BadData, ValueError, TypeError):
        return None
    if not isinstance(mark, str) or not secrets.compare_digest(mark, session.get("form_session",
                                                                                 "")):
        return None
    return FormStart(at, draft)


def looks_automated(form) -> bool:
    """A filled-in hidden field, a token not given to this session, or a form sent sooner
    than a person could type it."""
    if form.homepage.data:
        return True
    start = form_start(form)
    return start is None or time.time() - start.at < current_app.config["MIN_FILL_SECONDS"]
