"""復查與監督: a follow-up goes to the office and the committee, in the original's thread."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import access, cases, delivery, handling, spool, stats
from ..forms import FollowUpForm
from ..messages import build_follow_up
from ..sanitize import one_line
from ..site import page
from ..spam import looks_automated, started_token
from ..vocabulary import FOLLOW_UP_REASONS, LIMITS
from ..workdays import local_now

log = logging.getLogger(__name__)
bp = Blueprint("follow_ups", __name__)


def follow_up_page(form: FollowUpForm, status: int = 200):
    html = render_template("follow_up.html", form=form, lengths=LIMITS,
                           page=page("跟進已提交的投訴", "到期仍未收到回覆，或對處理結果不滿意。"))
    return html, status


@bp.route("/follow-up", methods=["GET", "POST"])
def follow_up():
    """復查與監督: a follow-up goes to the office and the committee, in the original's thread."""
    config = current_app.config
    form = FollowUpForm()
    if request.method == "GET":
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
    db, secret = Path(config["STATS_DB"]), config["SECRET_KEY"]
    now = local_now(config["REGION"])
    try:  # only the resident, with the access code, may follow up in their name
        prepared = handling.prepare_follow_up(reference, form.access_code.data, form.details.data,
                                              now, config)
    except cases.StoreUnavailable:
        abort(503)
    if prepared is None:
        form.access_code.data = ""
        form.access_code.errors = [access.NO_SUCH_CASE]
        return follow_up_page(form, 422)
    if not stats.reference_exists(db, reference, secret):
        form.reference.errors = ["找不到這個投訴編號。請檢查是否與確認頁或確認電郵上的編號相同；"
                                 "如有疑問，請致電管理處。"]
        return follow_up_page(form, 422)
    total = stats.count_follow_ups(db, reference, secret)
    if (stats.count_follow_ups(db, reference, secret, now.date().isoformat())
            >= config["FOLLOW_UPS_PER_DAY"] or total >= config["FOLLOW_UPS_TOTAL"]):
        form.reference.errors = ["這個投訴已經提交了足夠的跟進，管理處和業主委員會已經收到。"
                                 "如仍未得到處理，請直接致電，或向政府部門反映（見下文）。"]
        return follow_up_page(form, 422)
    number = total + 1
    reason = FOLLOW_UP_REASONS[form.reason.data]
    name = f"{reference}.follow-up-{number}-{secrets.token_hex(3)}"
    message = build_follow_up(reference, number, reason, prepared.details, now, name, config,
                              anonymized=prepared.case.anonymized, case_url=prepared.link.url)
    try:
        spool.spool_message(Path(config["SPOOL_DIR"]), name, message.as_bytes())
    except OSError as error:
        log.error("could not spool a follow-up of %s: %s", reference, error.strerror)
        abort(503)
    stats.remember_follow_up(db, reference, secret, now.date().isoformat())
    handling.reopen(prepared, number, form.reason.data, now, config)
    log.info("accepted follow-up %d of %s", number, reference)
    delivery.wake(current_app)
    session["followed_up"] = {"reference": reference, "number": number}
    return redirect(url_for(".follow_up_sent"), 303)


@bp.get("/follow-up/sent")
def follow_up_sent():
    sent = session.get("followed_up")
    if not sent:
        return redirect(url_for(".follow_up"))
    return render_template("follow_up_sent.html", sent=sent,
                           page=page("跟進已提交", "管理處和業主委員會都會收到您的跟進。"))
