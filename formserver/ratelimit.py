"""Per-client limits (Flask-Limiter). Its default storage counts per process: with several
gunicorn workers set RATELIMIT_STORAGE_URI to redis:// or memcached:// (see README.md)."""

from __future__ import annotations

import hashlib

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse


def init_app(app: Flask) -> None:
    """One limiter per app (its counters live on it); limits the form's POSTs."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter = Limiter(get_remote_address, app=app)
    app.extensions["formserver_limiter"] = limiter
    for endpoint in ("complaints.complaint_form", "follow_ups.follow_up"):
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(
            lambda: current_app.config["SUBMISSION_RATE_LIMIT"], methods=["POST"])(view)
    # The case's pages: lookups with a code or grant, and every request behind a case link,
    # each counted together per client.
    for endpoints, key, methods in (
            (("status.status",), "STATUS_RATE_LIMIT", ["POST"]),
            (("status.answer", "status.follow_up", "status.answered"), "STATUS_RATE_LIMIT", None),
            (("cases.case_page", "cases.case_action", "cases.case_confirm", "cases.office_login"),
             "CASE_RATE_LIMIT", None)):
        shared = limiter.shared_limit(lambda key=key: current_app.config[key], scope=key,
                                      methods=methods)
        for endpoint in endpoints:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])

def may_acknowledge(email: str) -> bool:
    """Count an acknowledgement to this address and from this client; False once either
    has had its share today. The address is hashed: limits keep no personal data."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    per_day = parse(f"{current_app.config['ACKNOWLEDGEMENTS_PER_DAY']}/day")
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    strategy = current_app.extensions["formserver_limiter"].limiter
    return (strategy.hit(per_day, "ack-address", address)
            and strategy.hit(per_day, "ack-client", get_remote_address()))
