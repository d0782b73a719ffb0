"""Spam checks without outside services: a field people never see, and when the form was shown."""

from __future__ import annotations

import time

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer


def started_token() -> str:
    return URLSafeSerializer(current_app.secret_key, salt="form-started").dumps(time.time())


def looks_automated(form) -> bool:
    """A filled-in hidden field, or a form sent sooner than a person could type it."""
    if form.homepage.data:
        return True
    try:
        started = URLSafeSerializer(current_app.secret_key, salt="form-started").loads(
            form.form_started.data or "")
    except BadData:
        return True
    return time.time() - float(started) < current_app.config["MIN_FILL_SECONDS"]
