"""Abuse and bad input: every case gets a clear answer, never a 500, and delivers nothing it
should not. Each row is one attack with the answer it must get."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from helpers import VALID_COMPLAINT, hidden_fields, jpeg, post_form, send_reviewed, upload
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formserver import delivery


def png_bomb() -> bytes:
    """A tiny PNG that declares 60000 × 60000 pixels."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def pdf_with_script() -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_archive() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", jpeg())
    return out.getvalue()


FIELD_ATTACKS = [
    # (case, changes to the form, status, text the answer must contain)
    ("empty name", {"name": ""}, 422, "請填寫您的姓名"),
    ("name only markup", {"name": "<img src=x onerror=alert(1)>"}, 422, "請填寫您的姓名"),
    ("oversized name", {"name": "A" * 10_000}, 422, "姓名不可多於 50 個字"),
    ("oversized description", {"description": "字" * 50_000}, 422, "投訴事實不可多於 5000 個字"),
    ("oversized subject", {"subject": "x" * 1000}, 422, "投訴標題不可多於 80 個字"),
    ("oversized follow-up reference", {"follow_up_ref": "9" * 500}, 422, "不可多於 20 個字"),
    ("recipient not offered", {"recipient": "police"}, 422, "請從列出的選項中選擇一項"),
    ("category not offered", {"category": "<script>"}, 422, "請從列出的選項中選擇一項"),
    ("recipient missing", {"recipient": None}, 422, "請選擇把投訴交給"),
    ("category missing", {"category": None}, 422, "請選擇投訴類別"),
    ("declaration missing", {"declaration": None}, 422, "請確認投訴內容真實"),
    ("every field missing", {k: None for k in VALID_COMPLAINT}, 422, "請更正以下"),
    ("email with header injection", {"email": "a@b.com\r\nBcc: evil@example.com"}, 422,
     "請輸入正確的電郵地址"),
    ("email as an encoded word", {"email": "=?utf-8?b?ZXZpbA==?=@example.com"}, 422,
     "請輸入正確的電郵地址"),
    ("phone that is words", {"phone": "call me maybe"}, 422, "請輸入正確的電話號碼"),
    ("follow-up reference with CRLF", {"follow_up_ref": "20261127-ABC-DEF\r\nBcc:"}, 422,
     "投訴編號"),
    ("date that is not a date", {"occurred_at": "2026-13-45T99:99"}, 422, "發生時間"),
    ("date in the future", {"occurred_at": "2099-01-01T00:00"}, 422, "發生時間不可以在將來"),
    ("no contact at all", {"phone": "", "email": ""}, 422, "請填寫聯絡電話或電郵地址"),
]


@pytest.mark.parametrize(("case", "changes", "status", "text"), FIELD_ATTACKS,
                         ids=[row[0] for row in FIELD_ATTACKS])
def test_bad_fields_get_a_clear_answer(app, client, smtp_server, case, changes, status, text):
    response = post_form(client, **changes)
    assert response.status_code == status, case
    assert text in response.get_data(as_text=True), case
    assert "Traceback" not in response.get_data(as_text=True)
    delivery.deliver_once(app.config)
    assert smtp_server.handler.messages == []


FILE_ATTACKS = [
    ("windows executable named .jpg", b"MZ\x90\x00" + b"\0" * 200, "photo.jpg", "image/jpeg"),
    ("linux executable", b"\x7fELF\x02\x01\x01" + b"\0" * 200, "video.mp4", "video/mp4"),
    ("zip archive named .pdf", zip_archive(), "evidence.pdf", "application/pdf"),
    ("gzip archive", b"\x1f\x8b\x08\x00" + b"\0" * 100, "a.png", "image/png"),
    ("svg with script", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
     b"</svg>", "a.svg", "image/svg+xml"),
    ("svg named .png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
     "a.png", "image/png"),
    ("html page", b"<!doctype html><script>alert(1)</script>", "a.html", "text/html"),
    ("html named .jpg", b"<html><body onload=alert(1)>", "a.jpg", "image/jpeg"),
    ("jpeg declared as pdf", jpeg(), "a.pdf", "application/pdf"),
    ("pdf declared as image", b"%PDF-1.4\n%%EOF", "a.jpg", "image/jpeg"),
    ("truncated jpeg", jpeg()[:40], "a.jpg", "image/jpeg"),
    ("png decompression bomb", png_bomb(), "a.png", "image/png"),
    ("pdf with javascript", pdf_with_script(), "a.pdf", "application/pdf"),
    ("unreadable pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "a.pdf", "application/pdf"),
    ("empty file", b"", "a.jpg", "image/jpeg"),
    ("text file", "投訴內容".encode(), "a.txt", "text/plain"),
]


@pytest.mark.parametrize(("case", "data", "name", "mimetype"), FILE_ATTACKS,
                         ids=[row[0] for row in FILE_ATTACKS])
def test_bad_files_are_refused_whatever_their_name(app, client, smtp_server, case, data, name,
                                                   mimetype):
    response = post_form(client, files=[upload(data, name, mimetype)])
    html = response.get_data(as_text=True)
    assert response.status_code == 422, case
    assert re.search(r'id="evidence-error">.*(不是可接受的格式|無法|未能接受|是空的)', html), case
    assert "請重新選擇" in html and VALID_COMPLAINT["description"] in html
    assert smtp_server.handler.messages == []


def test_a_file_name_is_never_used_as_a_path(app, client, smtp_server, tmp_path):
    names = ["../../../../tmp/evil.jpg", "..\\..\\windows\\evil.jpg", "/etc/passwd.jpg",
             "a\0b.jpg", "CON.jpg", "證據 (1).JPG"]
    files = [upload(jpeg(), name, "image/jpeg") for name in names]
    assert post_form(client, files=files).status_code == 303
    send_reviewed(client)
    delivery.deliver_once(app.config)
    [office] = [m for m in smtp_server.handler.parsed() if "X-Complaint-Kind" in m]
    assert [p.get_filename() for p in office.iter_attachments()][:-1] == [
        f"evidence-{n}.jpg" for n in range(1, 7)]
    assert not Path("/tmp/evil.jpg").exists()
    stored = [p.name for p in Path(app.config["DRAFT_DIR"]).rglob("*") if p.is_file()]
    assert not any("evil" in name or "passwd" in name for name in stored)


def test_a_jpeg_with_a_zip_appended_arrives_without_the_zip(app, client, smtp_server):
    polyglot = jpeg() + zip_archive()
    assert post_form(client, files=[upload(polyglot, "a.jpg", "image/jpeg")]).status_code == 303
    send_reviewed(client)
    delivery.deliver_once(app.config)
    [office] = [m for m in smtp_server.handler.parsed() if "X-Complaint-Kind" in m]
    photo = next(p for p in office.iter_attachments() if p.get_filename() == "evidence-1.jpg")
    assert b"PK\x03\x04" not in photo.get_content()


@pytest.mark.parametrize("subject", [
    "漏水 =?utf-8?b?DQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?=",  # encoded CRLF + Bcc
    "漏水\r\nBcc: evil@example.com",
    "漏水\nX-Injected: yes",
    "=?iso-8859-1?q?=0D=0ABcc=3A_evil=40example=2Ecom?=",
    "長" * 80,
])
def test_mail_headers_cannot_be_injected_through_the_subject(app, client, smtp_server,
                                                              subject):
    assert post_form(client, subject=subject, email="").status_code == 303
    send_reviewed(client)
    delivery.deliver_once(app.config)
    [message] = smtp_server.handler.messages
    assert message.rcpt_tos == ["office@estate.test"]
    lines = message.content.split(b"\r\n\r\n")[0].split(b"\r\n")
    names = [line.split(b":")[0].lower() for line in lines if not line[:1].isspace()]
    assert b"bcc" not in names and b"x-injected" not in names
    assert all(len(line) <= 998 for line in lines)
    [parsed] = smtp_server.handler.parsed()
    assert parsed["Subject"].startswith("[投訴 ") and "\n" not in parsed["Subject"]


def test_a_name_with_line_breaks_stays_in_the_body(app, client, smtp_server):
    post_form(client, name="陳大文\r\nBcc: evil@example.com", email="")
    send_reviewed(client)
    delivery.deliver_once(app.config)
    [message] = smtp_server.handler.messages
    assert message.rcpt_tos == ["office@estate.test"]
    assert b"\r\nBcc:" not in message.content.split(b"\r\n\r\n")[0]
    [parsed] = smtp_server.handler.parsed()
    assert parsed["Bcc"] is None


def test_invisible_and_control_characters_are_removed(app, client, smtp_server):
    post_form(client, name="陳\x00大\u202e文\u200b", email="")
    send_reviewed(client)
    delivery.deliver_once(app.config)
    [office] = smtp_server.handler.parsed()
    assert "姓名：陳大文" in office.get_body(("plain",)).get_content()


def test_invalid_utf8_in_a_field_is_not_an_error(client, smtp_server):
    fields = {**VALID_COMPLAINT, **hidden_fields(client)}
    body, boundary = [], "XyZ"
    for name, value in fields.items():
        raw = b"\xff\xfe\xc3(" if name == "subject" else value.encode()
        body.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    .encode() + raw + b"\r\n")
    data = b"".join(body) + f"--{boundary}--\r\n".encode()
    response = client.post("/complaint", data=data,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code in (303, 422)


def test_a_duplicated_field_takes_the_first_value(client):
    data = {**VALID_COMPLAINT, **hidden_fields(client)}
    data["recipient"] = ["office", "committee"]
    assert client.post("/complaint", data=data).status_code == 303
    assert "物業管理處" in client.get("/complaint/review").get_data(as_text=True)


def test_a_broken_multipart_body_gets_a_400_page(client):
    response = client.post("/complaint", data=b"--nope\r\ngarbage",
                           content_type="multipart/form-data; boundary=XyZ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "表格已逾時" in html or "無法處理" in html


def test_json_instead_of_a_form_is_refused(client):
    response = client.post("/complaint", json=VALID_COMPLAINT)
    assert response.status_code == 400


def test_too_many_form_parts_are_refused(app, client):
    data = {**VALID_COMPLAINT, **hidden_fields(client)}
    data.update({f"extra{n}": "x" for n in range(1200)})
    response = client.post("/complaint", data=data, content_type="multipart/form-data")
    assert response.status_code == 413


@pytest.mark.parametrize(("method", "path", "status"), [
    ("PUT", "/complaint", 405),
    ("DELETE", "/complaint", 405),
    ("PATCH", "/follow-up", 405),
    ("POST", "/complaint/review", 405),
    ("GET", "/complaint/send", 405),
    ("POST", "/complaint/sent", 405),
    ("TRACE", "/complaint", 405),
])
def test_method_tampering_gets_a_405_page(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert "無法這樣使用這一頁" in response.get_data(as_text=True)


def test_a_method_override_header_is_ignored(client, smtp_server):
    response = client.get("/complaint", headers={"X-HTTP-Method-Override": "DELETE"})
    assert response.status_code == 200


def test_a_csrf_token_from_another_session_is_refused(app, smtp_server):
    first, second = app.test_client(), app.test_client()
    token = hidden_fields(first)
    data = {**VALID_COMPLAINT, **hidden_fields(second), "csrf_token": token["csrf_token"]}
    response = second.post("/complaint", data=data)
    assert response.status_code == 400
    assert "表格已逾時" in response.get_data(as_text=True)


def test_sending_a_draft_without_a_csrf_token_is_refused(client, smtp_server):
    post_form(client)
    response = client.post("/complaint/send", data={})
    assert response.status_code == 303 and response.headers["Location"].endswith("/review")
    assert smtp_server.handler.messages == []


def test_a_tampered_session_shows_no_confirmation(client):
    client.set_cookie("session", "eyJzZW50Ijp7InJlZmVyZW5jZSI6IlgifX0.forged.sig")
    response = client.get("/complaint/sent")
    assert response.status_code == 302


def test_a_forged_draft_id_cannot_reach_outside_the_draft_folder(app, client):
    with client.session_transaction() as session:
        session["draft"] = "../../../../etc"
    assert client.get("/complaint/review").status_code == 302
    assert client.get("/complaint?change=1").status_code == 200


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                                  "/static/../../site.toml", "/.build-manifest.json/../x"])
def test_path_traversal_on_the_site_is_refused(client, path):
    with client.get(path) as response:
        assert response.status_code in (400, 404)
        assert b"root:" not in response.get_data()


def test_follow_ups_cannot_be_used_against_an_unknown_reference(client, smtp_server):
    data = {"reference": "20261127-ABC-DEF", "reason": "no_reply", "details": "spam",
            **hidden_fields(client, "/follow-up")}
    assert client.post("/follow-up", data=data).status_code == 422
    assert smtp_server.handler.messages == []


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fields=st.dictionaries(
    st.sampled_from([*VALID_COMPLAINT, "homepage", "form_started", "follow_up_ref", "anonymize",
                     "keep_evidence", "evidence", "extra"]),
    st.one_of(st.text(max_size=300), st.binary(max_size=64).map(lambda b: b.decode("latin-1"))),
    max_size=20))
def test_fuzzed_forms_never_get_a_500(client, smtp_server, fields):
    data = {**hidden_fields(client), **fields}
    response = client.post("/complaint", data=data, content_type="multipart/form-data")
    assert response.status_code in (303, 400, 413, 422, 429)
    if response.status_code == 303:
        assert client.get("/complaint/review").status_code in (200, 302)
