"""The complaint: form → draft → review → send (spooled) → confirmation.

Each new complaint starts a new session with a new draft id and the key its draft is sealed
with; only a form opened from that draft's own "change" links changes it. "Send" sends the
version the review page showed, once however often it is pressed, and the confirmation page
is shown once: the next person at the same browser finds nothing of it."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError

from .. import drafts, submission
from ..complaint import Complaint, from_answers, from_record, to_record
from ..editions import current_edition, render_page
from ..errors import error_page
from ..evidence import MAX_IN_MEMORY_SIZE, close_all, deidentify_file, megabytes
from ..forms import ComplaintForm, SendForm
from ..messages import attachment_names
from ..privacy.complaint import deidentify_marked, possibly_personal
from ..privacy.uncleanable import UncleanableFile
from ..sealed import Unreadable
from ..site import page, published_numbers
from ..spam import form_start, looks_automated, started_token
from ..uploads import EvidenceError, accepted_list, read_uploads, scratch_files, takes_files
from ..vocabulary import LIMITS, new_access_code, new_reference
from ..workdays import local_now, next_working_day

log = logging.getLogger(__name__)
bp = Blueprint("complaints", __name__)


def form_page(form: ComplaintForm, status: int = 200, notice: str = ""):
    config = current_app.config
    limits = {"count": config["MAX_FILES"], "each": megabytes(config["MAX_FILE_SIZE"]),
              "total": megabytes(config["MAX_TOTAL_SIZE"]), "kinds": accepted_list(),
              "in_memory": megabytes(MAX_IN_MEMORY_SIZE),
              # the script's warnings before an upload (static/upload.js)
              "each_bytes": config["MAX_FILE_SIZE"], "total_bytes": config["MAX_TOTAL_SIZE"],
              "in_memory_bytes": MAX_IN_MEMORY_SIZE}
    kept_files = 0
    if form.keep_evidence.data:  # the draft's files, kept unless new ones are chosen
        draft = draft_being_changed(form)
        kept_files = len(draft.evidence) if draft and not draft.files_expired else 0
    html = render_page("complaint_form.html", form=form, limits=limits, lengths=LIMITS,
                           notice=notice, kept_files=kept_files,
                           page=page("網上投訴表格", "以書面方式向物業管理處或業主委員會投訴。"))
    return html, status


ANSWERS = ("name", "unit", "phone", "email", "recipient", "respondent", "category", "subject",
           "description",
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


def current_draft(files: bool = True) -> drafts.Draft | None:
    return drafts.load_draft(drafts_dir(), session.get("draft"), session.get("draft_key"),
                             current_app.config["DRAFT_MAX_AGE"], files=files)


def draft_being_changed(form: ComplaintForm) -> drafts.Draft | None:
    """The session's draft, when this form was opened from its "change" links (the form's
    signed start says so); any other form starts a new complaint."""
    start = form_start(form)
    if start is None or not start.draft or start.draft != session.get("draft"):
        return None
    draft = current_draft()
    return draft if draft and not draft.sent_at else None


@bp.route("/complaint", methods=["GET", "POST"])
@takes_files
def complaint_form():
    if request.method != "POST":  # GET, and HEAD like GET
        return show_form()
    form = ComplaintForm()
    if looks_automated(form):
        # The same answer a person gets, so a bot learns nothing; nothing is saved or sent.
        log.info("discarded a submission that looked automated")
        session["sent"] = decoy_receipt()
        return redirect(url_for(".complaint_sent"), 303)
    valid = form.validate()
    draft = draft_being_changed(form)
    uploads = [f for f in request.files.getlist("evidence") if f and f.filename]
    evidence = []
    try:  # the files, cleaned into anonymous temporary files, go once sealed into the draft
        try:
            evidence = chosen_evidence(form, draft, uploads)
        except EvidenceError as error:
            form.evidence.errors = [str(error)]
            valid = False
        except Unreadable:  # a draft's file altered on disk: as if its files had expired
            return form_page(form, 422, notice="draft-expired")
        if not valid:
            return form_page(form, 422)
        save(answers_of(form), evidence, draft)
    except OSError as error:  # disk full: nothing was saved, and the page says so
        log.error("could not save a draft: %s", error.strerror)
        abort(503)
    finally:
        close_all(evidence)
    return redirect(url_for(".complaint_review"), 303)


def chosen_evidence(form: ComplaintForm, draft: drafts.Draft | None, uploads) -> list:
    """The files just chosen, checked and cleaned; or, with none chosen, the draft's own,
    de-identified now if 脫敏 was asked since they were chosen. Raises EvidenceError."""
    config, anonymize = current_app.config, bool(form.anonymize.data)
    if uploads or not (form.keep_evidence.data and draft):
        return read_uploads(uploads, max_files=config["MAX_FILES"],
                            max_file_size=config["MAX_FILE_SIZE"],
                            max_total_size=config["MAX_TOTAL_SIZE"], anonymize=anonymize,
                            scratch=scratch_files())
    if draft.files_expired:
        return []
    if not anonymize:
        return list(draft.evidence)
    try:
        return [deidentify_file(item, scratch_files()) for item in draft.evidence]
    except UncleanableFile as error:
        raise EvidenceError(str(error)) from None


def save(answers: dict, evidence, draft: drafts.Draft | None) -> None:
    """A new version of the draft being changed, or a new complaint: a new session (nothing
    of an earlier visit carries over, whoever holds a copy of its cookie), a new draft id,
    a new key."""
    if draft:
        with drafts.sending(drafts_dir(), draft.id):  # never over a draft being sent
            current = current_draft(files=False)
            if current and not current.sent:
                drafts.save_draft(drafts_dir(), session["draft_key"], answers, evidence,
                                  draft.reference, draft.id)
                return
    key = drafts.new_key()
    reference = new_reference(local_now(current_app.config["REGION"]))
    draft_id = drafts.save_draft(drafts_dir(), key, answers, evidence, reference)
    session.clear()
    session.update(draft=draft_id, draft_key=key)


def show_form():
    """A new form; with ?change, the draft's answers to change; with ?expired, what is left."""
    draft = current_draft() if request.args.keys() & {"change", "expired"} else None
    notice = ""
    if draft and not draft.sent_at:
        form = form_from(draft.answers)
        form.keep_evidence.data = bool(draft.evidence) and not draft.files_expired
        form.form_started.data = started_token(draft.id)  # this form changes that draft
        if draft.files_expired:
            notice = "draft-expired"
    else:
        form = ComplaintForm()
        form.form_started.data = started_token()
        if "expired" in request.args:
            notice = "draft-expired"
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
    complaint, marks = office_copy(draft)
    possible = (possibly_personal(raw_complaint(draft), current_app.config["REGION"],
                                  keep=published_numbers())
                if draft.answers["anonymize"] else [])
    return render_page("complaint_review.html", complaint=complaint, marks=marks,
                       possible=possible, possible_kinds=POSSIBLE_KINDS,
                       attachments=attachment_names(complaint),
                       send_form=SendForm(draft=draft.id, digest=draft.digest),
                       page=page("檢查投訴內容", "送出前，先看看管理處會收到甚麼。"))


@bp.post("/complaint/send")
def complaint_send():
    """Send the draft as the review page showed it. Ten clicks at once spool it once: the
    first holds the draft's lock while it spools, the others then find it sent."""
    form = SendForm()
    with drafts.sending(drafts_dir(), session.get("draft")):
        draft = current_draft()
        if draft is None:
            return redirect(url_for(".complaint_form", expired=1), 303)
        if draft.sent:  # another click on "send": it has gone already
            session["sent"] = draft.sent["summary"]
            return redirect(url_for(".complaint_sent"), 303)
        if draft.files_expired:
            return redirect(url_for(".complaint_form", expired=1), 303)
        if (form.draft.data, form.digest.data) != (draft.id, draft.digest):
            log.info("refused to send a draft changed since its review")
            return changed_page()
        summary = send(draft)
    session["sent"] = summary
    return redirect(url_for(".complaint_sent"), 303)


def send(draft: drafts.Draft) -> dict:
    """Spool the complaint (503 when it cannot be), then keep only what the confirmation
    page shows; return that page's summary."""
    complaint = complaint_from(draft, ticked(draft) if draft.answers["anonymize"] else ())
    access_code = new_access_code()
    try:
        acknowledged = submission.submit(complaint, resident_email=draft.answers.get("email") or "",
                                         access_code=access_code, edition=current_edition())
    except submission.NotSaved:
        abort(503)
    summary = {
        "reference": complaint.reference,
        "category": complaint.category_label,
        "recipient": complaint.recipient_label,
        "reply_due": complaint.reply_due.isoformat(),
        "anonymized": complaint.anonymized,
        "acknowledged": acknowledged,
        "access_code": access_code,
    }
    try:
        drafts.mark_sent(drafts_dir(), draft.id, session["draft_key"], summary,
                         to_record(complaint))
    except OSError as error:  # the complaint is safe in the spool; the draft expires anyway
        log.error("could not mark %s sent: %s", complaint.reference, error.strerror)
    return summary


def changed_page():
    """The draft changed (in another tab) after this page's review: nothing is sent."""
    html = render_page("complaint_changed.html",
                           page=page("投訴內容已更改，尚未送出", "請重新檢查投訴內容。"))
    return html, 409


def decoy_receipt() -> dict:
    now = local_now(current_app.config["REGION"])
    return {"reference": new_reference(now), "category": "其他", "recipient": "物業管理處",
            "reply_due": next_working_day(now.date(), current_app.config["REGION"]).isoformat(),
            "anonymized": False, "acknowledged": False,
            "access_code": new_access_code()}


def complaint_from(draft: drafts.Draft, also: tuple[str, ...] = ()) -> Complaint:
    """The complaint as the office will receive it: de-identified if the resident asked (also:
    the words they ticked on the review page to hide as well)."""
    return office_copy(draft, also)[0]


# What the review page says of each kind of possible personal data.
POSSIBLE_KINDS = {"person": "可能是一個人的名字", "number": "一個沒有說明用途的號碼",
                  "unit": "可能是一個單位"}


def office_copy(draft: drafts.Draft, also: tuple[str, ...] = ()) -> tuple[Complaint, dict]:
    """The office's copy and, when de-identified, each free-text field in marked pieces."""
    region = current_app.config["REGION"]
    now = local_now(region)
    complaint = from_answers(draft.answers, reference=draft.reference, evidence=draft.evidence,
                             submitted_at=now, reply_due=next_working_day(now.date(), region))
    if not draft.answers["anonymize"]:
        return complaint, {}
    # (The draft's files were de-identified when it was saved.)
    return deidentify_marked(complaint, region, keep=published_numbers(), also=also)


def raw_complaint(draft: drafts.Draft) -> Complaint:
    """The complaint as the resident typed it (for what the review page asks about)."""
    now = local_now(current_app.config["REGION"])
    return from_answers(draft.answers, reference=draft.reference, evidence=(), submitted_at=now,
                        reply_due=now.date())


def ticked(draft: drafts.Draft) -> tuple[str, ...]:
    """The words ticked on the review page to hide, among those it offered (nothing else)."""
    offered = {finding.text for finding in possibly_personal(
        raw_complaint(draft), current_app.config["REGION"], keep=published_numbers())}
    return tuple(word for word in request.form.getlist("hide") if word in offered)


@bp.get("/complaint/sent")
def complaint_sent():
    """Shown once: then the session forgets the complaint, so the next person at this browser
    cannot read it, and the draft's printable copy is deleted (drafts.forget: once clicks sent
    with this one have had their answer)."""
    sent = session.pop("sent", None)
    if not sent:
        return redirect(url_for(".complaint_form"))
    draft = current_draft(files=False)
    complaint = None
    if draft and draft.sent and draft.reference == sent["reference"]:
        complaint = from_record(draft.sent["record"])
    html = render_page("complaint_sent.html", sent=sent, complaint=complaint,
                           attachments=attachment_names(complaint) if complaint else [],
                           page=page("投訴已提交", "您的投訴編號和之後的處理步驟。"))
    if draft and draft.sent:
        drafts.forget(drafts_dir(), draft.id, sent_at=draft.sent_at)
        session.pop("draft", None)
        session.pop("draft_key", None)
    return html


complaint_sent.shown_once = True  # no language switch: it would lose the access code


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    """An expired form keeps every answer: a resident may have spent an hour writing."""
    view = (request.endpoint or "").rsplit(".", 1)[-1]  # in either edition's blueprint
    if request.method == "POST" and view == "complaint_form":
        form = ComplaintForm(formdata=request.form)
        start = form_start(form)  # a fresh start, in this session: the answers took time
        form.form_started.data = started_token(start.draft if start else "")
        return form_page(form, 400, notice="csrf-expired")
    if request.method == "POST" and view == "complaint_send":
        if request.form.get("draft", session.get("draft")) != session.get("draft"):
            return changed_page()  # a new complaint (a new session) since this tab's review
        return redirect(url_for(".complaint_review"), 303)  # a fresh token; the draft says the rest
    return error_page(400)
