"""The complaint: form → draft → review → send (spooled) → confirmation."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
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
from flask_wtf.csrf import CSRFError

from .. import drafts, submission
from ..complaint import Complaint, from_answers, from_record, to_record
from ..errors import error_page
from ..evidence import EvidenceError, accepted_list, deidentify_file, megabytes, read_uploads
from ..forms import ComplaintForm, SendForm
from ..messages import attachment_names
from ..privacy.complaint import deidentify
from ..site import page
from ..spam import looks_automated, started_token
from ..vocabulary import LIMITS, new_access_code, new_reference
from ..workdays import local_now, next_working_day

log = logging.getLogger(__name__)
bp = Blueprint("complaints", __name__)


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
    access_code = new_access_code()
    try:
        acknowledged = submission.submit(complaint, resident_email=draft.answers.get("email") or "",
                                         access_code=access_code)
    except submission.NotSaved:
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
        "access_code": access_code,
    }
    return redirect(url_for(".complaint_sent"), 303)


def decoy_receipt() -> dict:
    now = local_now(current_app.config["REGION"])
    return {"reference": new_reference(now), "category": "其他", "recipient": "物業管理處",
            "reply_due": next_working_day(now.date(), current_app.config["REGION"]).isoformat(),
            "anonymized": False, "has_media": False, "acknowledged": False,
            "access_code": new_access_code()}


def complaint_from(draft: drafts.Draft) -> Complaint:
    """The complaint as the office will receive it: de-identified if the resident asked."""
    region = current_app.config["REGION"]
    now = local_now(region)
    complaint = from_answers(draft.answers, reference=draft.reference, evidence=draft.evidence,
                             submitted_at=now, reply_due=next_working_day(now.date(), region))
    if not draft.answers["anonymize"]:
        return complaint
    complaint = deidentify(complaint, region)
    return replace(complaint, evidence=tuple(deidentify_file(item) for item in draft.evidence))


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


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    """An expired form keeps every answer: a resident may have spent an hour writing."""
    if request.method == "POST" and request.path == "/complaint":
        return form_page(ComplaintForm(formdata=request.form), 400, notice="csrf-expired")
    if request.method == "POST" and request.path == "/complaint/send":
        return redirect(url_for(".complaint_review"), 303)  # a fresh token; the draft says the rest
    return error_page(400)
