"""複查與監督: a follow-up goes to the office and the committee, in the original's thread."""

from __future__ import annotations

import logging
import secrets
import sqlite3
from pathlib import Path

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for

from .. import access, cases, delivery, handling, spool, stats
from ..editions import render_page
from ..forms import FollowUpForm
from ..messages import build_follow_up
from ..sanitize import one_line
from ..site import page, published_numbers
from ..spam import looks_automated, started_token
from ..vocabulary import FOLLOW_UP_REASONS, LIMITS
from ..workdays import local_now

log = logging.getLogger(__name__)
bp = Blueprint("follow_ups", __name__)


def follow_up_page(form: FollowUpForm, status: int = 200):
    html = render_page("follow_up.html", form=form, lengths=LIMITS,
                           page=page("跟進已提交的投訴", "到期仍未收到回覆，或對處理結果不滿意。"))
    return html, status


@bp.route("/follow-up", methods=["GET", "POST"])
def follow_up():
    """複查與監督: a follow-up goes to the office and the committee, in the original's thread."""
    config = current_app.config
    form = FollowUpForm()
    if request.method != "POST":  # GET, and HEAD like GET
        form.reference.data = one_line(request.args.get("reference", ""))[:20]
        form.form_started.data = started_token()
        return follow_up_page(form)
    if looks_automated(form):
        log.info("discarded a follow-up that looked automated")
        session["followed_up"] = {"reference": "", "number": 1}
        return redirect(url_for(".follow_up_sent"), 303)
    if not form.validate():
        return follow_up_page(form, 422)
    reference = form.reference.data.upper()
    now = local_now(config["REGION"])
    try:  # only the resident, with the access code, may follow up in their name
        prepared = handling.prepare_follow_up(reference, form.access_code.data, form.details.data,
                                              now, config, keep=published_numbers())
    except cases.StoreUnavailable:  # nothing sent yet: say so, never a 500
        abort(503)
    if prepared is None:
        g.wrong_access_code = True  # counted with the status lookups (ratelimit.py)
        form.access_code.data = ""
        form.access_code.errors = [access.NO_SUCH_CASE]
        return follow_up_page(form, 422)
    number = count_and_spool(form, prepared, now)
    if number is None:
        form.reference.errors = ["這個投訴已經提交了足夠的跟進，管理處和業主委員會已經收到。"
                                 "如仍未得到處理，請直接致電，或向政府部門反映（見下文）。"]
        return follow_up_page(form, 422)
    handling.reopen(prepared, number, form.reason.data, now, config)  # logs a broken store
    log.info("accepted follow-up %d of %s", number, reference)
    delivery.wake(current_app)
    session["followed_up"] = {"reference": reference, "number": number}
    return redirect(url_for(".follow_up_sent"), 303)


def count_and_spool(form: FollowUpForm, prepared, now) -> int | None:
    """Spool the follow-up if its limits allow it; its number, or None when they do not.
    Counted and checked in one transaction, so concurrent follow-ups cannot all pass; a
    statistics database that fails before the spool gives 503 (nothing sent), after it only
    loses the count."""
    config = current_app.config
    reference = prepared.case.reference
    number = spooled = None
    try:
        with stats.follow_up_slot(Path(config["STATS_DB"]), reference, config["SECRET_KEY"],
                                  now.date().isoformat(), config["FOLLOW_UPS_PER_DAY"],
                                  config["FOLLOW_UPS_TOTAL"]) as number:
            if number is not None:
                spooled = spool_follow_up(prepared, number, form, now)
    except (sqlite3.Error, OSError) as error:
        if spooled is None:
            log.error("could not count a follow-up of %s: %s", reference, type(error).__name__)
            abort(503)
        log.warning("could not count follow-up %d of %s: %s", number, reference,
                    type(error).__name__)
    return number


def spool_follow_up(prepared, number: int, form: FollowUpForm, now) -> str:
    """Put the follow-up on disk for delivery (503 when it cannot be); its spool name."""
    config = current_app.config
    reference = prepared.case.reference
    reason = FOLLOW_UP_REASONS[form.reason.data]
    name = f"{reference}.follow-up-{number}-{secrets.token_hex(3)}"
    message = build_follow_up(reference, number, reason, prepared.details, now, name, config,
                              anonymized=prepared.case.anonymized, case_url=prepared.link.url)
    try:
        spool.spool_message(Path(config["SPOOL_DIR"]), name, message.as_bytes())
    except OSError as error:
        log.error("could not spool a follow-up of %s: %s", reference, error.strerror)
        abort(503)
    return name


@bp.get("/follow-up/sent")
def follow_up_sent():
    sent = session.get("followed_up")
    if not sent:
        return redirect(url_for(".follow_up"))
    return render_page("follow_up_sent.html", sent=sent,
                           page=page("跟進已提交", "管理處和業主委員會都會收到您的跟進。"))
