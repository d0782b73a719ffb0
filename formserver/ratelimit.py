"""Per-client limits (Flask-Limiter), counting only what the server accepted. Its default
storage, memory://, counts in each process and forgets on restart: fit for the embedded single
process only. A deployment (several gunicorn workers) shares the counts through Redis (see
README.md and deploy/estate-complaints.env.example)."""

from __future__ import annotations

import hashlib
import logging
import os

from flask import Flask, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

log = logging.getLogger(__name__)
WRONG_OFFICE_PASSWORDS = "10/hour;30/day"  # per client


def init_app(app: Flask) -> None:
    """One limiter per app (its counters live on it); limits the form's POSTs."""
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # A store that cannot be reached (Redis restarting) must not turn the form into 500s.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if (str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory")
            and "gunicorn" in os.environ.get("SERVER_SOFTWARE", "")):
        log.warning("RATELIMIT_STORAGE_URI is memory://: each gunicorn worker counts on its own "
                    "and forgets on restart; set it to redis://127.0.0.1:6379 (README.md)")
    limiter = Limiter(get_remote_address, app=app)
    app.extensions["formserver_limiter"] = limiter
    for endpoint in in_both_scripts("complaints.complaint_form", "follow_ups.follow_up"):
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(
            lambda: current_app.config["SUBMISSION_RATE_LIMIT"], methods=["POST"],
            deduct_when=accepted)(view)
    # The case's pages: lookups with a code or grant, and every request behind a case link,
    # each counted together per client.
    for endpoints, key, methods in (
            (in_both_scripts("status.status"), "STATUS_RATE_LIMIT", ["POST"]),
            (in_both_scripts("status.answer", "status.follow_up", "status.answered"),
             "STATUS_RATE_LIMIT", None),
            (("cases.case_page", "cases.case_action", "cases.case_confirm", "cases.office_login"),
             "CASE_RATE_LIMIT", None)):
        shared = limiter.shared_limit(lambda key=key: current_app.config[key], scope=key,
                                      methods=methods)
        for endpoint in endpoints:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])
    # A follow-up with a wrong access code is a lookup too: it counts with them.
    wrong_codes = limiter.shared_limit(lambda: current_app.config["STATUS_RATE_LIMIT"],
                                       scope="STATUS_RATE_LIMIT", methods=["POST"],
                                       deduct_when=lambda _: g.get("wrong_access_code", False))
    for endpoint in in_both_scripts("follow_ups.follow_up"):
        app.view_functions[endpoint] = wrong_codes(app.view_functions[endpoint])
    # The shared office password, on top: only wrong ones count, so that a leaked case link
    # cannot be paired with a guessed password (the case pages' limit would allow 300 an hour).
    app.view_functions["cases.office_login"] = limiter.limit(
        WRONG_OFFICE_PASSWORDS, methods=["POST"], key_func=get_remote_address,
        deduct_when=lambda response: response.status_code == 403,
    )(app.view_functions["cases.office_login"])
    # A clerk scrubbing through a clip makes a request per seek: only a refused file request
    # (a wrong link) counts against the case pages' limit, and the limit, once reached, holds.
    app.view_functions["cases.case_file"] = limiter.shared_limit(
        lambda: current_app.config["CASE_RATE_LIMIT"], scope="CASE_RATE_LIMIT",
        deduct_when=lambda response: response.status_code >= 400,
    )(app.view_functions["cases.case_file"])


def in_both_scripts(*endpoints: str) -> tuple[str, ...]:
    """Each endpoint and its Simplified twin (the blueprint registered again as NAME_hans)."""
    twins = tuple(f"{blueprint}_hans.{view}" for blueprint, view in
                  (endpoint.split(".", 1) for endpoint in endpoints))
    return endpoints + twins


def accepted(response) -> bool:
    """Only a submission the server took counts (it answers with a redirect onwards): a form
    sent back to correct a mistake (422) or refused for want of space (503) does not."""
    return response.status_code == 303


def may_acknowledge(email: str) -> bool:
    """Count an acknowledgement to this address and from this client; False once either
    has had its share today, or when the counts cannot be reached (then no receipt goes:
    the limit holds). The address is hashed: limits keep no personal data."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    per_day = parse(f"{current_app.config['ACKNOWLEDGEMENTS_PER_DAY']}/day")
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    strategy = current_app.extensions["formserver_limiter"].limiter
    try:
        return (strategy.hit(per_day, "ack-address", address)
                and strategy.hit(per_day, "ack-client", get_remote_address()))
    except Exception as error:  # the store is down: no receipt rather than no limit
        log.warning("could not count a receipt (%s): none is sent", type(error).__name__)
        return False
