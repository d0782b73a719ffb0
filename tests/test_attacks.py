"""Abuse and bad input: every case gets a clear answer, never a 500, and delivers nothing it
should not. Each row is one attack with the answer it must get."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from helpers import (
    VALID_COMPLAINT,
    error_of,
    hidden_fields,
    jpeg,
    multipart,
    post_form,
    send_reviewed,
    upload,
)
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


@pytest.mark.parametrize("path", ["/complaint", "/follow-up"])
def test_invalid_utf8_in_a_field_is_refused_with_a_clear_message(app, client, smtp_server,
                                                                 path):
    """Bytes that are not UTF-8 arrive as U+FFFD: refused, never sent on (a U+FFFD in an
    address stopped every delivery round)."""
    fields = {"reference": "20261127-ABC-DEF", "reason": "no_reply", "details": "未有回覆",
              "email": "chan@example.com"} if path == "/follow-up" else dict(VALID_COMPLAINT)
    broken = "details" if path == "/follow-up" else "email"
    body, content_type = multipart({**fields, **hidden_fields(client, path),
                                    broken: b"ch\xe4n\xff@example.com"})
    response = client.post(path, data=body, content_type=content_type)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "無法辨認的字元" in error_of(html, broken) or "請輸入正確的電郵地址" in error_of(
        html, broken)
    delivery.deliver_once(app.config)
    assert smtp_server.handler.messages == []


def test_an_address_with_a_replacement_character_is_refused(app, client, smtp_server):
    response = post_form(client, email="ch\ufffdn@example.com")
    assert response.status_code == 422
    assert "無法辨認的字元" in error_of(response.get_data(as_text=True), "email")


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


def test_a_method_override_header_is_ignored(app, client, smtp_server):
    """A GET that asks to be a POST stays a GET: it shows the form and saves nothing."""
    data = {**VALID_COMPLAINT, **hidden_fields(client)}
    response = client.get("/complaint", query_string=data,
                          headers={"X-HTTP-Method-Override": "POST"})
    assert response.status_code == 200 and 'action="/complaint"' in response.get_data(True)
    assert not Path(app.config["DRAFT_DIR"]).exists() or not any(
        Path(app.config["DRAFT_DIR"]).iterdir())


@pytest.mark.parametrize("path", ["/complaint", "/follow-up"])
def test_head_behaves_as_get_and_submits_nothing(client, path):
    head, get = client.head(path), client.get(path)
    assert head.status_code == get.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    with client.session_transaction() as session:
        assert "sent" not in session and "followed_up" not in session
    assert client.get("/complaint/sent").status_code == 302  # no decoy confirmation either


def test_a_form_timer_token_replayed_by_a_fresh_session_is_taken_for_a_bot(app, smtp_server):
    """The token says when the form was shown, to which session: another session's copy is
    refused (the same answer as a person's, and nothing saved)."""
    first = app.test_client()
    token = hidden_fields(first)["form_started"]
    fresh = app.test_client()
    response = fresh.post("/complaint", data={**VALID_COMPLAINT, **hidden_fields(fresh),
                                              "form_started": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/sent")
    assert not Path(app.config["DRAFT_DIR"]).exists() or not any(
        Path(app.config["DRAFT_DIR"]).iterdir())
    own = first.post("/complaint", data={**VALID_COMPLAINT, **hidden_fields(first)})
    assert own.headers["Location"].endswith("/complaint/review")


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


@pytest.mark.slow
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fields=st.dictionaries(
    st.sampled_from([*VALID_COMPLAINT, "homepage", "form_started", "follow_up_ref", "anonymize",
                     "keep_evidence", "evidence", "extra"]),
    st.one_of(st.text(max_size=300), st.binary(max_size=64).map(lambda b: b.decode("latin-1"))),
    max_size=20))
def test_fuzzed_forms_never_get_a_500(app, client, smtp_server, fields):
    app.config["SUBMISSION_RATE_LIMIT"] = "100000/hour"  # fuzz the form, not the limit
    data = {**hidden_fields(client), **fields}
    response = client.post("/complaint", data=data, content_type="multipart/form-data")
    assert response.status_code in (303, 400, 413, 422)
    if response.status_code == 303:
        assert client.get("/complaint/review").status_code in (200, 302)
