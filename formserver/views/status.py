"""The resident's status page: the reference and the access code (查詢碼) show the case's
timeline, due date and the office's replies, with no account.

    GET|POST /status                 reference + access_code (POST: the code stays out of URLs)
    GET|POST /status/answer          token (a grant), answer=yes|no: 問題是否已解決？
    GET      /status/follow-up       token: the follow-up form, filled in for this case

A wrong reference and a wrong code get the same answer; lookups are rate-limited per client.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, abort, current_app, make_response, redirect, request, url_for

from .. import access, cases, handling
from ..editions import render_page
from ..forms import ConfirmForm, FollowUpForm, StatusForm
from ..private_pages import init_private, notice_page, timeline
from ..site import page
from ..spam import started_token
from ..vocabulary import FOLLOW_UP_REASONS, LIMITS
from ..workdays import local_now

bp = Blueprint("status", __name__)
init_private(bp, "查詢系統暫時無法讀取個案資料。請稍後再試，或致電管理處，提供投訴編號。")

REVIEW_START = "處理結果未能解決問題，要求複查："


def status_form_page(form: StatusForm, status: int = 200):
    html = render_page("status.html", form=form, case=None, lengths=LIMITS,
                           page=page("查詢處理進度", "用投訴編號和查詢碼查看處理進度和回覆。"))
    return html, status


def case_page(case: cases.Case, notice: str = ""):
    grant = access.grant(case.reference, current_app.config["SECRET_KEY"])
    return render_page("status.html", form=None, case=case, timeline=timeline(case),
                           grant=grant, notice=notice, reasons=FOLLOW_UP_REASONS,
                           page=page(f"投訴 {case.reference} 的處理進度"))


@bp.route("/status", methods=["GET", "POST"])
def status():
    form = StatusForm()
    if request.method == "GET":
        form.reference.data = (request.args.get("reference") or "")[:20]
        return status_form_page(form)
    if not form.validate():
        return status_form_page(form, 422)
    with handling.store(current_app.config) as db:
        case = access.case_for_code(db, form.reference.data, form.access_code.data,
                                    current_app.config)
    if case is None:
        form.access_code.errors = [access.NO_SUCH_CASE]
        return status_form_page(form, 422)
    return case_page(case)


def granted_case() -> cases.Case:
    """The case a grant (from the satisfaction email or the status page) opens; else a 404
    that tells the resident the way in that still works (a wrong and an expired link alike)."""
    reference = access.granted(request.values.get("token", ""), current_app.config)
    case = None
    if reference is not None:
        with handling.store(current_app.config) as db:
            case = cases.load(db, reference)
    if case is None:
        abort(make_response(*notice_page(
            "連結已失效", f"這條連結不正確，或已超過 {current_app.config['CASE_LINK_DAYS']} 日的"
            "有效期。請在查詢頁輸入投訴編號和查詢碼（在確認頁或確認電郵上），查看處理進度、回答"
            "「問題是否已解決？」或提交跟進。", 404, url_for(".status"), "查詢處理進度")))
    return case


def follow_up_form(case: cases.Case, reason: str, details: str = ""):
    form = FollowUpForm(formdata=None, data={
        "reference": case.reference, "reason": reason, "details": details,
        "access_code": access.grant(case.reference, current_app.config["SECRET_KEY"])})
    form.form_started.data = started_token()
    return render_page("follow_up.html", form=form, lengths=LIMITS,
                           page=page("跟進已提交的投訴", "到期仍未收到回覆，或對處理結果不滿意。"))


@bp.get("/status/follow-up")
def follow_up():
    case = granted_case()
    reason = request.args.get("reason", "")
    return follow_up_form(case, reason if reason in FOLLOW_UP_REASONS else "")


@bp.route("/status/answer", methods=["GET", "POST"])
def answer():
    """問題是否已解決？ "No" is the 複查 follow-up, filled in; "yes", once confirmed, closes
    the case. A GET changes nothing (mail scanners open links)."""
    case = granted_case()
    answer = request.values.get("answer")
    if answer == "no":
        return follow_up_form(case, "not_satisfied", REVIEW_START)
    if answer != "yes":
        abort(404)
    if case.status != "resolved":
        return case_page(case, notice="not-resolved")
    if request.method == "GET":
        return render_page("status_answer.html", case=case,
                               form=ConfirmForm(formdata=None), token=request.args["token"],
                               page=page("問題是否已解決？"))
    with suppress(cases.NotAllowed, cases.Stale):  # answered a moment ago: shown as it is
        handling.confirm_solved(case, local_now(current_app.config["REGION"]),
                                current_app.config)
    return redirect(url_for(".answered", token=request.form["token"]), 303)


@bp.get("/status/answered")
def answered():
    case = granted_case()
    return case_page(case, notice="thanks" if case.status == "closed" else "")

