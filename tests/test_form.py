"""The complaint form: validation, files, CSRF, spam checks, and the flow to a real SMTP server."""

from __future__ import annotations

import io
import re

import pytest
from helpers import (
    VALID_COMPLAINT,
    error_of,
    hidden_fields,
    jpeg,
    multipart,
    office_message,
    post_form,
    submit,
    upload,
)
from loop_helpers import confirmation, follow_up
from PIL import Image

from formserver import create_app, delivery


def test_the_form_page_shows_every_field_of_the_written_complaint(client):
    html = client.get("/complaint").get_data(as_text=True)
    for name in ("name", "unit", "phone", "email", "recipient", "category", "subject",
                 "description", "occurred_at", "location", "impact", "expected_resolution",
                 "evidence", "follow_up_ref", "anonymize", "declaration", "csrf_token"):
        assert f'name="{name}"' in html, name
    assert '<html lang="zh-Hant">' in html and "網上投訴表格" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_complaint_reaches_the_office_with_its_evidence(app, client, smtp_server):
    photo = jpeg()
    response = submit(client, files=[upload(photo, "相片 1.JPG", "image/jpeg")])
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', page).group(1)
    assert re.fullmatch(r"\d{8}-[2-9A-HJKMNP-Z]{3}-[2-9A-HJKMNP-Z]{3}", reference)
    assert "一個工作日" in page

    result = delivery.deliver_once(app.config)
    assert len(result.sent) == 2  # the office's email and the resident's receipt
    office = office_message(smtp_server)
    assert office["Subject"] == f"[投訴 {reference}] 設備設施 | 第3座升降機經常停用"
    assert office["Message-ID"] == f"<{reference}@estate.test>"
    assert office["Reply-To"] == "chan.taiman@example.com"
    text = office.get_body(("plain",)).get_content()
    for value in VALID_COMPLAINT.values():
        if value not in ("y", "office", "facilities", "2026-11-20T08:30"):
            assert value in text, value
    attachments = {part.get_filename(): part for part in office.iter_attachments()}
    assert set(attachments) == {"evidence-1.jpg", "complaint.json"}
    assert attachments["evidence-1.jpg"].get_content_type() == "image/jpeg"
    assert Image.open(io.BytesIO(attachments["evidence-1.jpg"].get_content())).size == (64, 48)


def test_the_spool_is_empty_once_the_server_accepted_everything(app, client, smtp_server):
    from pathlib import Path

    submit(client)
    new = Path(app.config["SPOOL_DIR"]) / "new"
    assert len(list(new.glob("*.eml"))) == 2
    delivery.deliver_once(app.config)
    assert list(new.iterdir()) == []


def test_the_resident_gets_a_receipt_that_never_echoes_their_words(app, client, smtp_server):
    submit(client, subject="請把這句話寄給任何人", description="任何內容 http://spam.example")
    delivery.deliver_once(app.config)
    [receipt] = [m for m in smtp_server.handler.parsed() if m["To"] == VALID_COMPLAINT["email"]]
    raw = receipt.as_string()
    body = receipt.get_body(("plain",)).get_content()
    assert "spam.example" not in raw and "請把這句話" not in body and "任何內容" not in body
    assert "設備設施" in body and "物業管理處" in body


def test_receipts_to_one_address_are_rate_limited(app, client, smtp_server):
    app.config["ACKNOWLEDGEMENTS_PER_DAY"] = 2
    for _ in range(4):
        assert submit(client).status_code == 303
    delivery.deliver_once(app.config)
    receipts = [m for m in smtp_server.handler.parsed() if m["To"] == VALID_COMPLAINT["email"]]
    assert len(receipts) == 2
    assert len(smtp_server.handler.messages) == 4 + 2  # every complaint still reaches the office


def test_a_complaint_to_the_committee_goes_to_the_committee(app, client, smtp_server):
    submit(client, recipient="committee")
    delivery.deliver_once(app.config)
    assert office_message(smtp_server)["To"] == "committee@estate.test"


def test_a_follow_up_copies_the_committee_and_threads_under_the_earlier_complaint(
        app, client, smtp_server):
    submit(client, follow_up_ref="20261120-ABC-XYZ")
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    assert office["Cc"] == "committee@estate.test"
    assert office["In-Reply-To"] == "<20261120-ABC-XYZ@estate.test>"
    assert office["References"] == "<20261120-ABC-XYZ@estate.test>"


def test_without_an_email_there_is_no_reply_to_and_no_receipt(app, client, smtp_server):
    submit(client, email="")
    delivery.deliver_once(app.config)
    [office] = smtp_server.handler.parsed()
    assert office["Reply-To"] is None


# Every mistake a resident (or an attacker) can make in a field, with the message it gets.
# (case, changes to the form, the field the message is shown at, text of the message)
MISTAKES = [
    ("empty name", {"name": ""}, "name", "請填寫您的姓名"),
    ("name only markup", {"name": "<img src=x onerror=alert(1)>"}, "name", "請填寫您的姓名"),
    ("name one too long", {"name": "陳" * 51}, "name", "姓名不可多於 50 個字"),
    ("name far too long", {"name": "A" * 10_000}, "name", "表格只保留了首 50 個字"),
    ("unit only spaces", {"unit": "  "}, "unit", "請填寫您的座數、樓層及單位"),
    ("no contact at all", {"phone": "", "email": ""}, "phone",
     "請填寫聯絡電話或電郵地址（最少一項）"),
    ("phone too short", {"phone": "12"}, "phone", "請輸入正確的電話號碼"),
    ("phone that is words", {"phone": "call me maybe"}, "phone", "請輸入正確的電話號碼"),
    ("email without domain", {"email": "chan@"}, "email", "請輸入正確的電郵地址"),
    ("email with header injection", {"email": "a@b.com\r\nBcc: evil@example.com"}, "email",
     "請輸入正確的電郵地址"),
    ("email as an encoded word", {"email": "=?utf-8?b?ZXZpbA==?=@example.com"}, "email",
     "請輸入正確的電郵地址"),
    ("recipient missing", {"recipient": None}, "recipient",
     "請選擇把投訴交給物業管理處還是業主委員會"),
    ("recipient not offered", {"recipient": "police"}, "recipient", "請從列出的選項中選擇一項"),
    ("category missing", {"category": None}, "category", "請選擇投訴類別"),
    ("category not offered", {"category": "<script>"}, "category", "請從列出的選項中選擇一項"),
    ("subject only markup", {"subject": "<b></b>"}, "subject", "請用一句話寫出投訴標題"),
    ("subject one too long", {"subject": "標" * 81}, "subject", "標題不可多於 80 個字"),
    ("subject far too long", {"subject": "x" * 1000}, "subject", "投訴標題不可多於 80 個字"),
    ("subject not valid UTF-8", {"subject": "升降機\ufffd\ufffd停用"}, "subject",
     "無法辨認的字元"),
    ("description empty", {"description": ""}, "description", "請描述發生了甚麼問題"),
    ("description one too long", {"description": "字" * 5001}, "description",
     "投訴事實不可多於 5000 個字"),
    ("description far too long", {"description": "字" * 50_000}, "description",
     "您輸入了 50000 個字，表格只保留了首 5000 個字"),
    ("date that is words", {"occurred_at": "昨天"}, "occurred_at",
     "請按年、月、日、時、分填寫發生時間"),
    ("date that is not a date", {"occurred_at": "2026-13-45T99:99"}, "occurred_at", "發生時間"),
    ("date in the future", {"occurred_at": "2999-01-01T10:00"}, "occurred_at",
     "發生時間不可以在將來"),
    ("impact too long", {"impact": "影" * 1001}, "impact", "影響程度不可多於 1000 個字"),
    ("expected resolution empty", {"expected_resolution": ""}, "expected_resolution",
     "請寫出您期望的解決方式"),
    ("follow-up reference not one", {"follow_up_ref": "ABC"}, "follow_up_ref",
     "投訴編號的格式應該像"),
    ("follow-up reference with CRLF", {"follow_up_ref": "20261127-ABC-DEF\r\nBcc:"},
     "follow_up_ref", "投訴編號"),
    ("follow-up reference far too long", {"follow_up_ref": "9" * 500}, "follow_up_ref",
     "不可多於 20 個字"),
    ("declaration missing", {"declaration": None}, "declaration", "請確認投訴內容真實，才可提交"),
    ("every field missing", dict.fromkeys(VALID_COMPLAINT), "name", "請填寫您的姓名"),
]


@pytest.mark.parametrize(("case", "changes", "field", "message"), MISTAKES,
                         ids=[row[0] for row in MISTAKES])
def test_each_mistake_gets_a_clear_message_and_keeps_the_other_answers(
        app, client, smtp_server, case, changes, field, message):
    response = submit(client, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error_of(html, field)
    assert f'href="#{field}' in html  # the error summary links to the field
    assert 'class="error-summary"' in html and "請更正以下" in html
    assert "Traceback" not in html and len(html) < 200_000  # not 2 MB sent back
    if "description" not in changes:
        assert VALID_COMPLAINT["description"] in html
    if "name" not in changes:
        assert 'value="陳大文"' in html
    delivery.deliver_once(app.config)
    assert smtp_server.handler.messages == []


def test_a_text_of_900_kilobytes_says_it_is_too_long_and_keeps_the_other_answers(
        app, client, smtp_server):
    """Over werkzeug's 500 KB for a field, under the 1 MB a text field may hold in memory:
    not the "files too large" page that loses every answer, but the form, saying what is too
    long."""
    body, content_type = multipart({**VALID_COMPLAINT, **hidden_fields(client),
                                    "description": "漏水" * 150_000})
    assert len(body) > 900_000
    response = client.post("/complaint", data=body, content_type=content_type)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "您輸入了 300000 個字，表格只保留了首 5000 個字" in error_of(html, "description")
    assert 'value="陳大文"' in html and VALID_COMPLAINT["location"] in html
    assert "上載的檔案太大" not in html and len(html) < 100_000


def test_an_hour_ago_in_the_estate_is_not_the_future_on_a_server_in_utc(app, client,
                                                                       smtp_server):
    """occurred_at is what the resident typed, in the estate's time; the server's own clock
    may be in UTC (TZ=UTC here), eight hours behind Hong Kong."""
    import os
    import time
    from datetime import timedelta

    from formserver.workdays import local_now

    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        estate_now = local_now("HK").replace(tzinfo=None)
        earlier = (estate_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        later = (estate_now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
        assert post_form(client, occurred_at=earlier).status_code == 303
        refused = post_form(client, occurred_at=later)
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
    assert refused.status_code == 422
    assert "發生時間不可以在將來" in error_of(refused.get_data(as_text=True), "occurred_at")


def test_corrected_mistakes_do_not_count_against_the_submission_limit(app, client):
    """Only accepted submissions count: ten forms sent back for a mistake (422) do not lock
    a resident out (SUBMISSION_RATE_LIMIT, README)."""
    app.config["SUBMISSION_RATE_LIMIT"] = "2/hour"
    for _ in range(10):
        assert post_form(client, name="").status_code == 422
    assert post_form(client).status_code == 303
    assert post_form(client).status_code == 303
    assert post_form(client).status_code == 429


def test_markup_is_stripped_and_nothing_typed_is_rendered_unescaped(app, client, smtp_server):
    submit(client, subject='漏水<script>alert(1)</script>', location="<b>大堂</b> & 走廊")
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    html = office.get_body(("html",)).get_content()
    assert "<script>" not in html and "alert(1)" in office["Subject"]
    assert "大堂 &amp; 走廊" in html and "<b>" not in html


@pytest.mark.parametrize(("typed", "kept"), [
    ("請回覆 <chan@example.com>", "請回覆 <chan@example.com>"),  # a signature's address
    ("水費 <100 元，> 上月", "水費 <100 元，> 上月"),
    ("樓上 <!-- 漏水", "樓上 <!-- 漏水"),  # not closed: not a comment
    ("<?xml 漏水", "<?xml 漏水"),
    ("<Flat 12B> 滲水", "<Flat 12B> 滲水"),
    ("A &amp; B", "A &amp; B"),  # as typed, not unescaped
    ("<img src=x onerror=alert(1)>相片", "相片"),
    ("<scr<script>ipt>alert(1)</script>電梯", "alert(1)電梯"),  # markup inside markup
    ("<!-- 備註 -->大堂", "大堂"),
])
def test_only_markup_is_stripped_and_every_other_angle_bracket_is_the_residents_text(
        app, client, smtp_server, typed, kept):
    submit(client, description=f"升降機壞了。{typed}")
    delivery.deliver_once(app.config)
    text = office_message(smtp_server).get_body(("plain",)).get_content()
    assert f"升降機壞了。{kept}" in text


@pytest.mark.parametrize(
    ("data", "name", "mimetype"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "photo.jpg", "image/jpeg"),  # an executable
        (b"PK\x03\x04" + b"\x00" * 100, "evidence.pdf", "application/pdf"),  # a zip archive
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "a.png",
         "image/png"),
        (b"<html><body>hi</body></html>", "a.pdf", "application/pdf"),
        (b"just some text", "notes.txt", "text/plain"),
        (b"%PDF-1.4 not really", "x.jpg", "image/jpeg"),  # content contradicts declared type
    ],
)
def test_files_are_judged_by_their_content_not_their_name(client, smtp_server, data, name,
                                                           mimetype):
    response = submit(client, files=[upload(data, name, mimetype)])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不是可接受的格式" in error_of(html, "evidence") or "無法" in error_of(html, "evidence")
    assert "請重新選擇" in html
    assert smtp_server.handler.messages == []


def test_too_many_files_are_refused(app, client):
    app.config["MAX_FILES"] = 2
    response = submit(client, files=[upload(jpeg(), f"{n}.jpg") for n in range(3)])
    assert "最多可以附上 2 個檔案" in error_of(response.get_data(as_text=True), "evidence")


def test_a_file_over_the_size_limit_is_refused(app, client):
    app.config["MAX_FILE_SIZE"] = 1000
    response = submit(client, files=[upload(jpeg((400, 400)), "big.jpg")])
    assert "太大" in error_of(response.get_data(as_text=True), "evidence")


def test_a_request_over_the_total_limit_gets_a_clear_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    response = submit(client, files=[upload(b"\xff\xd8\xff" + b"0" * 30_000, "big.jpg")])
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "上載的檔案太大" in html and "投訴尚未提交" in html and "Traceback" not in html


def test_a_post_without_a_csrf_token_is_refused(client, smtp_server):
    data = {**VALID_COMPLAINT, **hidden_fields(client)}
    del data["csrf_token"]
    response = client.post("/complaint", data=data)
    assert response.status_code == 400
    assert smtp_server.handler.messages == []


@pytest.mark.parametrize(("prefix", "notice"), [("", "表格已逾時，投訴尚未提交"),
                                              ("/zh-hans", "表格已逾时，投诉尚未提交")])
def test_an_expired_csrf_token_reshows_the_form_with_every_answer_kept(app, client, prefix,
                                                                      notice):
    data = {**VALID_COMPLAINT, **hidden_fields(client, f"{prefix}/complaint"),
            "csrf_token": "expired.token.value"}
    response = client.post(f"{prefix}/complaint", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert notice in html
    assert VALID_COMPLAINT["description"] in html and 'value="陳大文"' in html
    assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', html)


def test_the_honeypot_gets_the_same_answer_but_nothing_is_sent(app, client, smtp_server):
    response = submit(client, homepage="http://spam.example")
    assert response.status_code == 303
    assert 'id="reference"' in client.get(response.headers["Location"]).get_data(as_text=True)
    delivery.deliver_once(app.config)
    assert smtp_server.handler.messages == []


def test_a_form_sent_faster_than_a_person_types_is_discarded(app, client, smtp_server):
    app.config["MIN_FILL_SECONDS"] = 60
    assert submit(client).status_code == 303
    delivery.deliver_once(app.config)
    assert smtp_server.handler.messages == []


def test_a_forged_start_time_is_not_trusted(app, client, smtp_server):
    assert submit(client, form_started="MTAwMA.forged").status_code == 303
    delivery.deliver_once(app.config)
    assert smtp_server.handler.messages == []


def test_the_confirmation_page_needs_a_submission(client):
    response = client.get("/complaint/sent")
    assert response.status_code == 302 and response.headers["Location"].endswith("/complaint")


def test_an_unwritable_spool_gives_a_503_that_says_nothing_was_saved(app, client):
    from pathlib import Path

    spool = Path(app.config["SPOOL_DIR"])
    spool.mkdir(parents=True)
    (spool / "new").write_text("a file where the folder should be")  # fails even for root
    response = submit(client)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "沒有保存任何資料" in html and "致電" in html
    assert "陳大文" not in html


def test_submissions_from_one_client_are_rate_limited(app, client):
    app.config["SUBMISSION_RATE_LIMIT"] = "2/hour"
    assert submit(client).status_code == 303
    assert submit(client).status_code == 303
    response = submit(client)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "提交次數太多" in html and "致電" in html
    assert re.search(r"大約 (\d+ 分鐘|1 小時)後可以再提交", html)


def test_too_many_follow_ups_are_told_their_follow_up_was_not_sent(app, client):
    """The limit is shared with the complaint form; the page must not speak of a complaint."""
    reference, code = confirmation(client)
    app.config["SUBMISSION_RATE_LIMIT"] = "1/hour"
    assert follow_up(client, reference, code).status_code == 303
    response = follow_up(client, reference, code)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "尚未送出" in html and "投訴尚未提交" not in html


def test_error_pages_speak_the_sites_language_and_hide_internals(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "找不到這一頁" in response.get_data(as_text=True)
    response = client.delete("/complaint")
    assert response.status_code == 405 and "無法這樣使用這一頁" in response.get_data(as_text=True)


def test_every_response_carries_the_security_headers(client):
    for path in ("/complaint", "/", "/no-such-page"):
        with client.get(path) as response:
            headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]


def test_the_embedded_default_serves_the_built_site(client):
    with client.get("/") as response:
        html = response.get_data(as_text=True)
    assert "我要投訴" in html
    css = re.search(r'href="(static/style\.[0-9a-f]+\.css)"', html).group(1)
    for path, status in (("/process/", 200), ("/process", 301), ("/" + css, 200)):
        with client.get(path) as response:
            assert response.status_code == status, path


def test_without_smtp_host_mail_lands_in_the_maildir(tmp_path, built_site):
    import mailbox
    from email.header import decode_header, make_header

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SPOOL_DIR": str(tmp_path / "spool"),
                      "MAILDIR": str(tmp_path / "maildir"), "SITE_DIR": str(built_site),
                      "STATS_DB": str(tmp_path / "stats.sqlite"),
                      "DRAFT_DIR": str(tmp_path / "drafts"),
                      "CASE_DB": str(tmp_path / "cases.sqlite"),
                      "DELIVER_IN_PROCESS": False, "MIN_FILL_SECONDS": 0})
    assert submit(app.test_client()).status_code == 303
    delivery.deliver_once(app.config)
    subjects = [str(make_header(decode_header(m["Subject"])))
                for m in mailbox.Maildir(tmp_path / "maildir", create=False)]
    assert len(subjects) == 2 and any("第3座升降機經常停用" in s for s in subjects)


def test_a_draft_that_cannot_be_saved_gives_a_503_not_a_500(app, client):
    from pathlib import Path

    Path(app.config["DRAFT_DIR"]).parent.mkdir(parents=True, exist_ok=True)
    Path(app.config["DRAFT_DIR"]).write_text("a file where the folder should be")
    response = submit(client)
    assert response.status_code == 503
    assert "沒有保存任何資料" in response.get_data(as_text=True)
