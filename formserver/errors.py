"""Error pages in the site's look and language: what happened and what to do next.
Never a stack trace, never the form's data."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

from .editions import render_page
from .logtext import printable, where
from .site import page
from .uploads import takes_uploads

log = logging.getLogger(__name__)

MESSAGES = {  # status -> (title, what happened, what to do next)
    400: ("無法處理這個要求", "瀏覽器送來的資料不完整或格式不正確。",
          "請返回上一頁再試一次。"),
    404: ("找不到這一頁", "您要找的頁面不存在，可能已經移動或網址有誤。",
          "請檢查網址，或從首頁繼續。"),
    405: ("無法這樣使用這一頁", "這一頁不接受這種操作。", "請從網上投訴表格重新開始。"),
    413: ("上載的檔案太大", "您選擇的檔案合共超過了可以接收的大小，投訴尚未提交。",
          "請返回表格，選擇較少或較小的檔案（例如縮小相片、剪短影片）後再提交；"
          "也可以把證據帶到管理處。"),
    429: ("提交次數太多", "這部裝置在短時間內提交了太多次，這次提交的內容尚未送出。",
          "請稍後再試；如事情緊急，請直接致電管理處。"),
    500: ("系統出現問題", "伺服器處理您的要求時出錯，我們已記錄這個問題。",
          "請稍後再試；如事情緊急，請直接致電管理處。"),
    503: ("暫時未能接收投訴", "系統暫時無法儲存投訴，這次提交沒有保存任何資料。",
          "請稍後再試，或直接致電管理處。"),
}
TOO_LARGE = {  # a 413 whose cause is not the size of the files
    # the complaint within its size: werkzeug stopped at too many parts, or a text part too long
    "form": ("表格的內容太多", "表格送來的檔案或欄位太多，或有一欄的文字太長，投訴尚未提交。",
             "請返回表格：最多可以附上 {files} 個檔案，請只選最能說明問題的幾個；"
             "太長的文字請縮短後再提交。也可以把其餘證據帶到管理處。"),
    # a request that takes no files (a follow-up, the status and case pages)
    "text": ("送出的文字太長", "送出的內容超過了可以接收的大小，沒有送出。",
             "請返回上一頁，把文字縮短後再試。"),
}


def error_page(status: int, extra: str = ""):
    title, what, next_step = too_large() if status == 413 else MESSAGES.get(status, MESSAGES[500])
    html = render_page("error.html", status=status, what=what, next_step=next_step,
                           extra=extra, page=page(title))
    return html, status


def too_large() -> tuple[str, str, str]:
    """What a 413 says: that the files are too large only when that is what it was."""
    if not has_request_context() or request.endpoint is None:
        return MESSAGES[413]
    if not takes_uploads():
        return TOO_LARGE["text"]
    length = request.content_length
    if length is not None and length <= current_app.config["MAX_CONTENT_LENGTH"]:
        title, what, next_step = TOO_LARGE["form"]
        return title, what, next_step.format(files=current_app.config["MAX_FILES"])
    return MESSAGES[413]


def retry_hint() -> str:
    """When the limit that tripped lets this client in again, in words."""
    limiter = current_app.extensions.get("formserver_limiter")
    limit = limiter.current_limit if limiter else None
    if limit is None:
        return ""
    minutes = max(1, math.ceil((limit.reset_at - time.time()) / 60))
    if minutes < 90:
        return f"大約 {minutes} 分鐘後可以再提交。"
    return f"大約 {math.ceil(minutes / 60)} 小時後可以再提交。"


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error):
        extra = ""
        if error.code == 429:
            log.info("rate limit reached on %s", printable(request.path))
            extra = retry_hint()
        response = error.get_response()
        html, status = error_page(error.code or 500, extra)
        response.set_data(html)
        response.status_code = status
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(Exception)
    def unexpected(error):
        # The type and where it happened, never the message or locals: they may hold
        # what the resident typed.
        log.error("unexpected %s on %s %s at %s", type(error).__name__,
                  printable(request.method), printable(request.path), where(error))
        return error_page(500)
