"""The office's case page, behind the link in each office email (and OFFICE_PASSWORD when
set): the timeline, the due dates, and the four actions, each confirmed on a second page
before anything is recorded. No JavaScript is needed.

    GET  /case?token=T          the case (the same 404 for a wrong, expired or revoked link)
    POST /case                  an action: token, action, message, handled_by -> confirmation
    POST /case/confirm          token, step (signed): recorded once -> 303 to the case
    POST /case/login            the shared office password, when OFFICE_PASSWORD is set
    POST /case/logout           forget that login on this browser (a shared office computer)
    GET  /case/file?token=T&n=N evidence file N (1, 2, ...), with range requests (206, 416,
                                If-Range); &download=1 as an attachment
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from types import SimpleNamespace

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
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.wsgi import wrap_file

from .. import access, case_files, cases, delivery, handling
from ..crypto import keyed_hash
from ..forms import CaseActionForm, ConfirmForm, OfficeLoginForm
from ..private_pages import init_private, notice_page, timeline
from ..reminders import escalation_day
from ..sealed import CHUNK, Unreadable
from ..site import page
from ..vocabulary import CASE_ACTIONS, LIMITS
from ..workdays import local_now

log = logging.getLogger(__name__)
bp = Blueprint("cases", __name__)
init_private(bp, "個案資料暫時無法讀取，沒有作出任何更改。請稍後再試；如事情緊急，請直接聯絡投訴人"
                 "（如有提供電話）或業主委員會。")
CONFIRM_SECONDS = 3600  # a confirmation page left open longer must be done again
ALREADY = ("這個操作已經記錄過，或個案在您確認前已有更新，所以這次沒有作出任何更改。"
           "請在個案頁查看最新情況。")


def now():
    return local_now(current_app.config["REGION"])


def logged_in() -> bool:
    password = current_app.config["OFFICE_PASSWORD"]
    if not password:
        return True
    expected = keyed_hash(password, current_app.config["SECRET_KEY"], "office login")
    return hmac.compare_digest(session.get("office", ""), expected)


def case_or_404(token: str) -> cases.Case:
    with handling.store(current_app.config) as db:
        case = access.case_for_token(db, token, current_app.config, now())
    if case is None:
        abort(404)
    return case


def posted_case() -> tuple[str, cases.Case | None]:
    """The form's link and its case (404 for a wrong link); None before the office login."""
    token = request.form.get("token", "")
    return token, case_or_404(token) if logged_in() else None


def case_link(token: str, **args) -> str:
    return url_for(".case_page", token=token, **args)


def case_view(case: cases.Case, token: str, form: CaseActionForm, status: int = 200):
    config = current_app.config
    html = render_template(
        "case.html", case=case, token=token, form=form, timeline=timeline(case),
        done=request.args.get("done", "") if request.args.get("done") in CASE_ACTIONS else "",
        overdue=not case.answered and now() >= cases.end_of(case.due, now().tzinfo),
        escalation_day=escalation_day(case, config), lengths=LIMITS,
        files=listed_files(case, token),
        page=page(f"投訴個案 {case.reference}", "處理投訴：受理、回覆、記錄結果。"))
    return html, status


def listed_files(case: cases.Case, token: str) -> list[SimpleNamespace]:
    """The case's evidence files as the page shows them: each with its player or picture."""
    config = current_app.config
    return [SimpleNamespace(
        url=url_for(".case_file", token=token, n=stored.number),
        download=url_for(".case_file", token=token, n=stored.number, download=1),
        name=stored.name, kind=stored.item.kind_label, family=stored.item.family,
        mime_type=stored.item.mime_type, size=stored.item.size_text,
        duration=stored.item.duration_text, sha256=stored.item.sha256,
        deidentified=stored.item.deidentified, captured_at=stored.item.captured_at)
        for stored in case_files.files_of(Path(config["CASE_FILES_DIR"]), case.reference,
                                          config["SECRET_KEY"])]


@bp.get("/case/file")
def case_file():
    """One evidence file, decrypted only where it is read: a player's range request (a clerk
    scrubbing through a clip) gets 206 with just those bytes; the ETag is the stored file's
    hash, so If-Range works across requests."""
    token = request.args.get("token", "")
    if not logged_in():
        return login_view(token, status=403)
    case = case_or_404(token)
    config = current_app.config
    number = request.args.get("n", type=int)
    stored = next((f for f in case_files.files_of(Path(config["CASE_FILES_DIR"]),
                                                  case.reference, config["SECRET_KEY"])
                   if f.number == number), None)
    if stored is None:
        abort(404)
    try:
        reader = case_files.open_file(Path(config["CASE_FILES_DIR"]), case.reference,
                                      stored.number, config["SECRET_KEY"])
    except (OSError, Unreadable) as error:
        log.error("case %s: file %d cannot be opened: %s", case.reference, stored.number,
                  type(error).__name__)
        abort(404)
    response = current_app.response_class(wrap_file(request.environ, reader, CHUNK),
                                          mimetype=stored.item.mime_type,
                                          direct_passthrough=True)
    response.content_length = reader.length
    response.call_on_close(reader.close)
    response.set_etag(stored.stored_sha256)
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{stored.name}"'
    try:
        response.make_conditional(ranges_to_serve(request.environ), accept_ranges=True,
                                  complete_length=reader.length)
    except RequestedRangeNotSatisfiable:
        reader.close()
        return "", 416, {"Content-Range": f"bytes */{reader.length}"}
    if response.status_code == 412:  # (werkzeug would send the whole file with it)
        reader.close()
        return "", 412
    return response


def ranges_to_serve(environ: dict) -> dict:
    """The request as make_conditional is to answer it: a Range in another unit than bytes,
    or of several parts (which would need a multipart answer; no player asks for one), is
    ignored and the whole file sent, as RFC 9110 (14.2) has it, never a 416."""
    asked = parse_range_header(environ.get("HTTP_RANGE"))
    if asked and (asked.units != "bytes" or len(asked.ranges) > 1):
        return {key: value for key, value in environ.items() if key != "HTTP_RANGE"}
    return environ


def login_view(token: str, form: OfficeLoginForm | None = None, status: int = 200):
    html = render_template("case_login.html", token=token, form=form or OfficeLoginForm(),
                           page=page("管理處登入", "打開投訴個案前，請輸入管理處密碼。"))
    return html, status


@bp.get("/case")
def case_page():
    token = request.args.get("token", "")
    if not logged_in():
        return login_view(token)
    return case_view(case_or_404(token), token, CaseActionForm(formdata=None))


def steps() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="case-step")


@bp.post("/case")
def case_action():
    token, case = posted_case()
    if case is None:
        return login_view(token, status=403)
    form = CaseActionForm()
    if not form.validate():
        return case_view(case, token, form, 422)
    action = form.action.data
    try:
        cases.next_status(case, action)
    except cases.NotAllowed as refusal:
        return refused(token, str(refusal))
    return confirm_view(case, token, action, form.message.data or "", form.handled_by.data or "")


def confirm_view(case: cases.Case, token: str, action: str, message: str, handled_by: str,
                 changed: bool = False):
    """The confirmation page, its step signed for the case's version as shown; `changed`:
    asked again because the case changed since the clerk's last page (the timeline shows how)."""
    step = steps().dumps({"reference": case.reference, "action": action,
                          "version": case.version, "message": message,
                          "handled_by": handled_by})
    html = render_template("case_confirm.html", case=case, token=token, action=action,
                           label=CASE_ACTIONS[action], message=message, handled_by=handled_by,
                           form=ConfirmForm(formdata=None, step=step), changed=changed,
                           timeline=timeline(case) if changed else [],
                           page=page(f"確認：{CASE_ACTIONS[action]}"))
    return html, 409 if changed else 200


@bp.post("/case/confirm")
def case_confirm():
    token, case = posted_case()
    if case is None:
        return login_view(token, status=403)
    try:
        step = steps().loads(request.form.get("step", ""), max_age=CONFIRM_SECONDS)
    except BadData:
        return refused(token, "這個確認已逾時或不完整，沒有作出任何更改。請在個案頁重新操作。", 400)
    if step.get("reference") != case.reference:
        return refused(token, ALREADY)
    if step.get("version") != case.version:
        return changed_meanwhile(token, case, step)
    try:
        handling.act(case, step["action"], step["message"], step["handled_by"], now(),
                     current_app.config)
    except cases.Stale:  # another clerk's step came first, a moment ago
        return changed_meanwhile(token, case_or_404(token), step)
    except cases.NotAllowed as refusal:
        return refused(token, str(refusal))
    except handling.NotSpooled:
        return notice_page("暫時未能記錄", "系統暫時無法寄出給投訴人的郵件，這次操作沒有記錄。"
                           "請稍後再試。", 503, case_link(token), "返回個案頁")
    delivery.wake(current_app)
    return redirect(case_link(token, done=step["action"]), 303)


def changed_meanwhile(token: str, case: cases.Case, step: dict):
    """A step signed for an earlier version: refused when it is already recorded (a second
    click) or no longer fits (another clerk acknowledged first); otherwise asked again with
    the clerk's words kept, so that a reply racing another clerk's is never lost."""
    action, message, handled_by = step["action"], step["message"], step["handled_by"]
    if handling.already_done(case, action, message, handled_by):
        return refused(token, ALREADY)
    try:
        cases.next_status(case, action)
    except cases.NotAllowed as refusal:
        return refused(token, str(refusal))
    return confirm_view(case, token, action, message, handled_by, changed=True)


def refused(token: str, what: str, status: int = 409):
    return notice_page("沒有作出任何更改", what, status, case_link(token), "返回個案頁")


@bp.post("/case/login")
def office_login():
    token = request.form.get("token", "")
    form = OfficeLoginForm()
    password = current_app.config["OFFICE_PASSWORD"]
    if not password:
        return redirect(case_link(token), 303)
    if form.validate() and hmac.compare_digest(form.password.data.encode(), password.encode()):
        session["office"] = keyed_hash(password, current_app.config["SECRET_KEY"], "office login")
        return redirect(case_link(token), 303)
    if not form.errors:
        form.password.errors = ["密碼不正確。如忘記密碼，請向管理處主任查詢。"]
    log.info("a wrong office password on the case page")
    return login_view(token, form, 403)


@bp.post("/case/logout")
def office_logout():
    """On a shared office computer, the next person must type the password again."""
    session.pop("office", None)
    token = request.form.get("token", "")
    return redirect(case_link(token) if token else "/", 303)


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    """A cross-site post, or a page left open too long: nothing changes."""
    token = request.form.get("token", "")
    what = "這個表格已逾時，或不是從個案頁送出，所以沒有作出任何更改。請重新打開個案頁再操作。"
    return notice_page("沒有作出任何更改", what, 400, case_link(token) if token else "",
                       "返回個案頁")
