"""What the case page and the status page share: they open a case with a credential, so they
are never indexed, cached or named in a Referer; their own pages for a store that cannot be
read (503) and for too many tries (429); the timeline in words."""

from __future__ import annotations

import logging

from flask import Blueprint, request
from werkzeug.exceptions import TooManyRequests

from .cases import Case, StoreUnavailable
from .editions import render_page
from .errors import retry_hint
from .site import page

log = logging.getLogger(__name__)

PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow, noarchive",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

EVENTS = {  # kind -> what happened, in the resident's words ({who}: the office or committee)
    "submitted": "投訴已提交",
    "delivered": "投訴已送達{who}",
    "acknowledged": "{who}已受理",
    "replied": "{who}回覆",
    "replied_directly": "{who}已直接回覆投訴人（電話或信件）",
    "resolved": "{who}記錄為已解決",
    "satisfied": "投訴人確認問題已解決，個案結束",
    "not_satisfied": "投訴人表示問題未解決，要求複查",
    "follow_up": "投訴人提交跟進，個案重開",
    "reminder": "已過首次回覆限期，系統提醒{who}",
    "escalation": "逾期未處理，系統通知業主委員會",
    "resident_email_failed": "給投訴人的電郵未能送達（回覆仍可在進度查詢頁查看）",
}


def timeline(case: Case) -> list[dict]:
    return [{"at": event.at, "what": EVENTS[event.kind].format(who=case.recipient_label),
             "message": event.message, "handled_by": event.handled_by, "kind": event.kind}
            for event in case.events]


def notice_page(title: str, what: str, status: int, back: str = "", back_text: str = ""):
    """A clear page after a step that changed nothing (or could not)."""
    html = render_page("case_notice.html", what=what, back=back, back_text=back_text,
                           page=page(title))
    return html, status


def init_private(bp: Blueprint, unavailable: str) -> None:
    @bp.after_request
    def private_headers(response):
        response.headers.update(PRIVATE_HEADERS)
        return response

    @bp.errorhandler(StoreUnavailable)
    def store_unavailable(error):
        log.error("case store unavailable on %s: %s", request.path, error)
        return notice_page("暫時未能打開個案", unavailable, 503)

    @bp.errorhandler(TooManyRequests)
    def too_many(error):
        log.info("rate limit reached on %s", request.path)
        return notice_page("嘗試次數太多", "這部裝置在短時間內嘗試了太多次。" + retry_hint()
                           .replace("提交", "嘗試"), 429)
