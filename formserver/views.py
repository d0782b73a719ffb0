"""The complaint form: validate, sanitise, de-identify if asked, build, spool, redirect."""

from __future__ import annotations

import logging
import secrets
import sqlite3
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from itsdangerous import BadData, URLSafeSerializer
from werkzeug.security import safe_join

from . import delivery, drafts, spool, stats
from .complaints import (
    Complaint,
    from_record,
    local_now,
    new_reference,
    next_working_day,
    to_record,
)
from .evidence import EvidenceError, accepted_list, deidentify_file, megabytes, read_uploads
from .forms import FOLLOW_UP_REASONS, LIMITS, ComplaintForm, FollowUpForm, SendForm
from .layout import page
from .mailer import attachment_names, build_acknowledgement, build_follow_up, build_message
from .privacy.complaint import deidentify
from .ratelimit import may_acknowledge
from .sanitize import one_line

log = logging.getLogger(__name__)
bp = Blueprint("complaints", __name__)


class NotSaved(Exception):
    """The spool could not take the submission: nothing was saved (503)."""


def form_page(form: ComplaintForm, status: int = 200, notice: str = ""):
    config = current_app.config
    limits = {"count": config["MAX_FILES"], "each": megabytes(config["MAX_FILE_SIZE"]),
              "total": megabytes(config["MAX_TOTAL_SIZE"]), "kinds": accepted_list()}
    kept_files = 0
    if form.keep_evidence.data:  # the draft's files, kept unless new ones are chosen
        draft = current_draft()
        kept_files = len(draft.evidence) if draft and not draft.sent_at else 0
    html = render_template("complaint_form.html", form=form, limits=limits, lengths=LIMITS,
                           notice=notice, kept_files=kept_files,
                           page=page("網上投訴表格", "以書面方式向物業管理處或業主委員會投訴。"))
    return html, status


def started_token() -> str:
    return URLSafeSerializer(current_app.secret_key, salt="form-started").dumps(time.time())


def looks_automated(form: ComplaintForm) -> bool:
    """A filled-in hidden field, or a form sent sooner than a person could type it."""
    if form.homepage.data:
        return True
    try:
        started = URLSafeSerializer(current_app.secret_key, salt="form-started").loads(
            form.form_started.data or "")
    except BadData:
        return True
    return time.time() - float(started) < current_app.config["MIN_FILL_SECONDS"]


ANSWERS = ("name", "unit", "phone", "email", "recipient", "category", "subject", "description",
           "occurred_at", "location", "impact", "expected_resolution", "follow_up_ref",
           "anonymize", "declaration")


def answers_of(form: ComplaintForm) -> dict:
    answers = {name: form[name].data for name in ANSWERS}
    if answers["occurred_at"]:
        answers["occurred_at"] = answers["occurred_at"].isoformat(timespec="minutes")
    answers["follow_up_ref"] = (answers["follow_up_ref"] or "").upper()
    return answers


def form_from(answers: dict) -> ComplaintForm:
    data = dict(answers)
    if data.get("occurred_at"):
        data["occurred_at"] = datetime.fromisoformat(data["occurred_at"])
    return ComplaintForm(formdata=None, data=data)


def drafts_dir() -> Path:
    return Path(current_app.config["DRAFT_DIR"])


def current_draft() -> drafts.Draft | None:
    return drafts.load_draft(drafts_dir(), session.get("draft"),
                             current_app.config["DRAFT_MAX_AGE"])


@bp.route("/complaint", methods=["GET", "POST"])
def complaint_form():
    if request.method == "GET":
        return show_form()
    form = ComplaintForm()
    if looks_automated(form):
        # The same answer a person gets, so a bot learns nothing; nothing is saved or sent.
        log.info("discarded a submission that looked automated")
        session["sent"] = decoy_receipt()
        return redirect(url_for(".complaint_sent"), 303)
    valid = form.validate()
    draft = current_draft()
    uploads = [f for f in request.files.getlist("evidence") if f and f.filename]
    evidence = []
    try:
        if uploads or not (form.keep_evidence.data and draft and not draft.sent_at):
            evidence = read_uploads(uploads, max_files=current_app.config["MAX_FILES"],
                                    max_file_size=current_app.config["MAX_FILE_SIZE"],
                                    max_total_size=current_app.config["MAX_TOTAL_SIZE"],
                                    anonymize=bool(form.anonymize.data))
        elif not draft.files_expired:
            evidence = list(draft.evidence)
    except EvidenceError as error:
        form.evidence.errors = [str(error)]
        valid = False
    if not valid:
        return form_page(form, 422)
    reference = draft.reference if draft and not draft.sent_at else None
    reference = reference or new_reference(local_now(current_app.config["REGION"]))
    keep_id = draft.id if draft and not draft.sent_at else None
    try:
        session["draft"] = drafts.save_draft(drafts_dir(), answers_of(form), evidence,
                                             reference, keep_id)
    except OSError as error:  # disk full: nothing was saved, and the page says so
        log.error("could not save a draft: %s", error.strerror)
        abort(503)
    return redirect(url_for(".complaint_review"), 303)


def show_form():
    """A new form; with ?change, the draft's answers to change; with ?expired, what is left."""
    draft = current_draft() if request.args.keys() & {"change", "expired"} else None
    notice = ""
    if draft and not draft.sent_at:
        form = form_from(draft.answers)
        form.keep_evidence.data = bool(draft.evidence) and not draft.files_expired
        if draft.files_expired:
            notice = "draft-expired"
    else:
        form = ComplaintForm()
        if "expired" in request.args:
            notice = "draft-expired"
    form.form_started.data = started_token()
    return form_page(form, notice=notice)


@bp.get("/complaint/review")
def complaint_review():
    draft = current_draft()
    if draft is None:
        return redirect(url_for(".complaint_form"))
    if draft.sent_at:
        return redirect(url_for(".complaint_sent"))
    if draft.files_expired:
        return redirect(url_for(".complaint_form", expired=1))
    complaint = complaint_from(draft)
    return render_template("complaint_review.html", complaint=complaint,
                           attachments=attachment_names(complaint), send_form=SendForm(),
                           page=page("檢查投訴內容", "送出前，先看看管理處會收到甚麼。"))


@bp.post("/complaint/send")
def complaint_send():
    draft = current_draft()
    if draft is None:
        return redirect(url_for(".complaint_form", expired=1), 303)
    if draft.sent_at:  # a second click on "send": it has gone already
        return redirect(url_for(".complaint_sent"), 303)
    if draft.files_expired:
        return redirect(url_for(".complaint_form", expired=1), 303)
    complaint = complaint_from(draft)
    try:
        acknowledged = submit(complaint, resident_email=draft.answers.get("email") or "")
    except NotSaved:
        abort(503)
    try:
        drafts.mark_sent(drafts_dir(), draft.id, to_record(complaint))
    except OSError as error:  # the complaint is safe in the spool; the draft expires anyway
        log.error("could not mark %s sent: %s", complaint.reference, error.strerror)
    session["sent"] = {
        "reference": complaint.reference,
        "category": complaint.category_label,
        "recipient": complaint.recipient_label,
        "reply_due": complaint.reply_due.isoformat(),
        "anonymized": complaint.anonymized,
        "has_media": complaint.has_media,
        "acknowledged": acknowledged,
    }
    return redirect(url_for(".complaint_sent"), 303)


def decoy_receipt() -> dict:
    now = local_now(current_app.config["REGION"])
    return {"reference": new_reference(now), "category": "其他", "recipient": "物業管理處",
            "reply_due": next_working_day(now.date(), current_app.config["REGION"]).isoformat(),
            "anonymized": False, "has_media": False, "acknowledged": False}


def complaint_from(draft: drafts.Draft) -> Complaint:
    """The complaint as the office will receive it: de-identified if the resident asked."""
    region = current_app.config["REGION"]
    now = local_now(region)
    answers = draft.answers
    occurred_at = answers["occurred_at"]
    complaint = Complaint(
        reference=draft.reference,
        submitted_at=now,
        reply_due=next_working_day(now.date(), region),
        recipient=answers["recipient"],
        category=answers["category"],
        name=answers["name"],
        unit=answers["unit"],
        phone=answers["phone"] or "",
        email=answers["email"] or "",
        subject=answers["subject"],
        description=answers["description"],
        occurred_at=datetime.fromisoformat(occurred_at) if occurred_at else None,
        location=answers["location"],
        impact=answers["impact"] or "",
        expected_resolution=answers["expected_resolution"],
        follow_up_ref=answers["follow_up_ref"] or "",
        evidence=draft.evidence,
    )
    if not answers["anonymize"]:
        return complaint
    complaint = deidentify(complaint, region)
    return replace(complaint, evidence=tuple(deidentify_file(item) for item in draft.evidence))


def submit(complaint: Complaint, resident_email: str = "") -> bool:
    """Spool the office's email, then the resident's receipt; return whether a receipt goes.
    Raises NotSaved when the complaint could not be put on disk."""
    config = current_app.config
    spool_dir = Path(config["SPOOL_DIR"])
    message = build_message(complaint, config)
    try:
        spool.spool_message(spool_dir, complaint.reference, message.chunks())
    except OSError as error:
        log.error("could not spool %s: %s", complaint.reference, error.strerror)
        raise NotSaved from None
    try:
        stats.remember_reference(Path(config["STATS_DB"]), complaint.reference,
                                 config["SECRET_KEY"], complaint.submitted_at.date().isoformat())
    except sqlite3.Error as error:  # the complaint is safe in the spool; follow-ups just can't
        log.warning("could not remember %s: %s", complaint.reference, type(error).__name__)
    log.info("accepted %s (%s, %s, %d files, anonymized=%s)", complaint.reference,
             complaint.category, complaint.recipient, len(complaint.evidence),
             complaint.anonymized)
    acknowledged = False
    if resident_email and config["SEND_ACKNOWLEDGEMENT"] and may_acknowledge(resident_email):
        receipt = build_acknowledgement(complaint, resident_email, config)
        try:
            spool.spool_message(spool_dir, f"{complaint.reference}.ack", receipt.as_bytes())
            acknowledged = True
        except OSError as error:  # the complaint itself is safe; only the receipt is lost
            log.error("could not spool the receipt for %s: %s", complaint.reference,
                      error.strerror)
    delivery.wake(current_app)
    return acknowledged


@bp.get("/complaint/sent")
def complaint_sent():
    sent = session.get("sent")
    if not sent:
        return redirect(url_for(".complaint_form"))
    record = drafts.sent_copy(drafts_dir(), session.get("draft"))
    complaint = from_record(record) if record else None
    if complaint and complaint.reference != sent["reference"]:
        complaint = None
    return render_template("complaint_sent.html", sent=sent, complaint=complaint,
                           attachments=attachment_names(complaint) if complaint else [],
                           page=page("投訴已提交", "您的投訴編號和之後的處理步驟。"))


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
    message = build_follow_up(reference, number, reason, form.details.data, now, name, config)
    try:
        spool.spool_message(Path(config["SPOOL_DIR"]), name, message.as_bytes())
    except OSError as error:
        log.error("could not spool a follow-up of %s: %s", reference, error.strerror)
        abort(503)
    stats.remember_follow_up(db, reference, secret, now.date().isoformat())
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


def serve_site(app: Flask) -> None:
    """The embedded default serves the built site too, so one command gives site and form."""
    site_dir = Path(app.config["SITE_DIR"])
    app_paths = {rule.rule for rule in app.url_map.iter_rules()}

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def site_page(path: str):
        if f"/{path}" in app_paths:  # e.g. GET /complaint/send: the app's path, wrong method
            abort(405)
        if path == "" or path.endswith("/"):
            path += "index.html"
        else:
            target = safe_join(str(site_dir), path)
            if target and Path(target).is_dir():
                return redirect(f"/{path}/", 301)
        return send_from_directory(site_dir, path, max_age=300)
