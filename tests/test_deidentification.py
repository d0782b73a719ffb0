"""De-identification on request, and privacy by default, end to end through a real SMTP server."""

from __future__ import annotations

import io
import json
import logging
import re

from helpers import (
    CAMERA_MODEL,
    RED,
    VALID_COMPLAINT,
    camera_photo,
    close,
    office_message,
    submit,
    upload,
)
from PIL import Image, ImageOps

from formserver import delivery

IDENTIFIERS_IN_TEXT = {
    "phone": "+852 6123-4567",
    "mainland phone": "138 0013 8000",
    "email": "neighbour.wong@example.org",
    "hkid": "A123456(3)",
    "plate": "車牌 AB 1234",
}
RESIDENT = ("陳大文", "大文", "9123 4567", "91234567", "chan.taiman@example.com", "12樓", "B室")


def anonymous_complaint(client, files=()):
    text = ("隔壁住戶（電話 +852 6123-4567，內地手機 138 0013 8000，"
            "電郵 neighbour.wong@example.org，身份證 A123456(3)）的車牌 AB 1234 私家車"
            "長期阻塞通道。我陳大文住在第3座 12樓 B室，電話 9123 4567。"
            "管理費每月 1,280 元，2026年11月20日開始。")
    return submit(client, files=files, anonymize="y", description=text,
                  subject="陳大文投訴：車牌 AB 1234 阻塞通道")


def raw_office_message(smtp_server) -> bytes:
    [raw] = [m.content for m in smtp_server.handler.messages
             if b"office@estate.test" in m.content.split(b"\r\n\r\n")[0]]
    return raw


def every_text_of(message) -> str:
    """Headers, both bodies and the JSON attachment, decoded."""
    parts = [str(value) for value in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text" or part.get_content_type() == "application/json":
            payload = part.get_content()
            parts.append(payload if isinstance(payload, str) else payload.decode())
        if part.get_filename():
            parts.append(part.get_filename())
    return "\n".join(parts)


def test_with_anonymize_no_personal_data_appears_anywhere_in_the_message(app, client,
                                                                           smtp_server):
    photo = camera_photo()
    anonymous_complaint(client, files=[upload(photo, "陳大文家門口.jpg", "image/jpeg")])
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    text = every_text_of(office)
    raw = raw_office_message(smtp_server)
    for secret in (*RESIDENT, *IDENTIFIERS_IN_TEXT.values(), "6123", "13800138000", "AB 1234",
                   "家門口"):
        assert secret not in text, secret
        assert secret.encode() not in raw, secret
    assert office["Reply-To"] is None
    assert "投訴人要求脫敏處理" in text
    placeholders = ("〔電話已隱藏〕", "〔電郵已隱藏〕", "〔身份證號碼已隱藏〕", "〔車牌已隱藏〕",
                    "〔姓名已隱藏〕")
    for placeholder in placeholders:
        assert placeholder in text, placeholder
    assert "〔投訴人要求不公開〕" in text  # the resident block is withheld, not masked
    for hint in ("陳**", "****4567", "@example.com"):
        assert hint not in text, hint
    assert "1,280 元" in text and "2026年11月20日" in text  # ordinary numbers survive


def test_with_anonymize_a_photo_loses_all_metadata_and_stays_upright(app, client, smtp_server):
    original = camera_photo()
    anonymous_complaint(client, files=[upload(original, "IMG_0001.JPG", "image/jpeg")])
    delivery.deliver_once(app.config)
    [photo] = [p for p in office_message(smtp_server).iter_attachments()
               if p.get_filename() == "evidence-1.jpg"]
    data = photo.get_content()
    assert CAMERA_MODEL.encode() not in data and b"GPS" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert image.size == (20, 40)  # the camera's orientation was applied before dropping it
        assert close(image.getpixel((image.width - 3, 2)), RED)


def test_the_email_records_the_cleaned_files_hash_but_not_its_capture_time_when_anonymized(
        app, client, smtp_server):
    """Not the original's hash: it would match a copy of the photo the resident shared
    elsewhere under their own name."""
    import hashlib

    original = camera_photo()
    anonymous_complaint(client, files=[upload(original, "IMG_0001.JPG", "image/jpeg")])
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    [record] = [json.loads(p.get_content()) for p in office.iter_attachments()
                if p.get_filename() == "complaint.json"]
    [item] = record["evidence"]
    [photo] = [p.get_content() for p in office.iter_attachments()
               if p.get_filename() == "evidence-1.jpg"]
    assert item["sha256"] == hashlib.sha256(photo).hexdigest()
    assert item["sha256"] != hashlib.sha256(original).hexdigest()
    assert item["captured_at"] is None  # the time a photo was taken can identify who took it
    assert item["sha256"] in office.get_body(("plain",)).get_content()


def test_without_anonymize_details_arrive_intact_and_only_gps_is_gone(app, client, smtp_server):
    original = camera_photo()
    submit(client, files=[upload(original, "IMG_0001.JPG", "image/jpeg")])
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    text = every_text_of(office)
    for value in ("陳大文", "第3座 12樓 B室", "9123 4567", "chan.taiman@example.com"):
        assert value in text
    # When it was taken, as the clerk writes a date (the camera's own time: EXIF has no zone).
    assert "拍攝時間 2024年3月15日（星期五） 14:30" in office.get_body(("plain",)).get_content()
    [photo] = [p.get_content() for p in office.iter_attachments()
               if p.get_filename() == "evidence-1.jpg"]
    with Image.open(io.BytesIO(photo)) as image:
        exif = image.getexif()
        assert not exif.get_ifd(0x8825), "GPS is always removed"
        assert exif[0x0110] == CAMERA_MODEL and exif[0x0112] == 6  # model and orientation kept
        assert ImageOps.exif_transpose(image).size == (20, 40)


def test_the_form_says_what_happens_to_the_metadata_of_files(client):
    form = client.get("/complaint").get_data(as_text=True)
    assert "拍攝地點會被清除" in form and "所有附帶資料" in form
    assert "無法清除" not in form  # since video and audio are cleaned too


def test_logs_hold_no_personal_data(app, client, smtp_server, runner, caplog):
    caplog.set_level(logging.DEBUG)
    submit(client)  # not anonymized: the personal data is in the request
    submit(client, email="bad@")  # a refused submission
    smtp_server.handler.reply = "451 4.3.0 later"
    delivery.deliver_once(app.config)
    runner.invoke(args=["spool"])
    # mail.log is the test's own SMTP server, which logs what it receives
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail"))
    assert "accepted" in logged and "deferred" in logged
    personal = ("name", "unit", "phone", "email", "subject", "description", "location",
                "impact", "expected_resolution")
    for field in personal:
        assert VALID_COMPLAINT[field] not in logged, field
    assert "chan.taiman" not in logged and not re.search(r"9123\s?4567", logged)


def test_an_unexpected_error_logs_where_but_not_what_was_typed(app, client, caplog,
                                                               monkeypatch):
    from formserver import submission

    def broken(*args, **kwargs):
        raise ValueError("陳大文 9123 4567")  # an exception message carrying typed data

    monkeypatch.setattr(submission, "build_message", broken)
    response = submit(client)
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "陳大文" not in html and "Traceback" not in html and "系統出現問題" in html
    assert "ValueError" in caplog.text and "陳大文" not in caplog.text


def test_the_privacy_notice_is_on_the_form_and_linked_from_every_page(client, built_site):
    form = client.get("/complaint").get_data(as_text=True)
    assert 'id="privacy-notice"' in form and "私隱聲明" in form
    for page in built_site.rglob("index.html"):
        assert re.search("(私隱聲明|隐私声明)</a>", page.read_text("utf-8")), page
