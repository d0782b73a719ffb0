"""An outsider's attack on the evidence files: the case page's downloads (tokens, file numbers,
ranges of every shape, conditional requests, headers), uploads that are malformed or lie about
their kind and size, both editions, the purge, and what logs and the office may learn. Real
clips (PyAV), a real SMTP server, the real `flask purge` under libfaketime."""

from __future__ import annotations

import contextlib
import hashlib
import html
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from datetime import UTC, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from crafted import clip, phone_video
from helpers import (
    CAMERA_MODEL,
    INSTANCE_PATHS,
    ROOT,
    VALID_COMPLAINT,
    Browser,
    Service,
    camera_photo,
    free_port,
    gunicorn_command,
    hidden_inputs,
    jpeg,
    make_app,
    multipart,
    send_reviewed,
    server_env,
)
from loop_helpers import case_path, complaint_with, file_path, office_email, post_files

from formserver import access, cases
from formserver.editions import simplified
from formserver.workdays import local_now

MB = 1024 * 1024


# --- the tests themselves keep every file of the server in their own folder --------------------

def test_the_tests_keep_every_folder_of_the_server_out_of_the_projects_instance_folder(
        tmp_path, smtp_server, built_site):
    """A test's purge deletes every case folder its own store does not know: run in the
    project's instance/ (a server's checkout), it would delete real residents' evidence."""
    from formserver import create_app

    bare = create_app({"SECRET_KEY": "x", "SITE_DIR": str(built_site), "TESTING": True,
                       "DELIVER_IN_PROCESS": False})
    instance = Path(bare.instance_path)
    in_instance = {key for key, value in bare.config.items()
                   if isinstance(value, str) and value.startswith(str(instance))}
    assert in_instance == set(INSTANCE_PATHS)
    app = make_app(tmp_path, smtp_server, built_site)
    assert {key: app.config[key] for key in INSTANCE_PATHS
            if not app.config[key].startswith(str(tmp_path))} == {}
    env = server_env(tmp_path, smtp_server, built_site)
    assert {key for key in INSTANCE_PATHS
            if not env.get(f"FORMSERVER_{key}", "").startswith(str(tmp_path))} == set()


# --- the case page's files: links, numbers, ranges, conditions, headers -------------------------

@pytest.fixture
def kept(app, client, smtp_server, tmp_path):
    """A complaint with a video and a voice note, sent and delivered: (the office's email,
    the video's path on the case page, its bytes as kept)."""
    video = phone_video(tmp_path / "lift.mp4", int(1.2 * MB), seconds=3).read_bytes()
    note = clip(tmp_path, "m4a", seconds=2).read_bytes()
    complaint_with(client, ("IMG_0042.MP4", video, "video/mp4"), ("voice.m4a", note, "audio/mp4"))
    office = office_email(app, smtp_server)
    path = file_path(office, 1)
    whole = client.get(path).data
    assert len(whole) > 1_000_000
    return office, path, whole


def test_a_range_in_another_unit_or_of_several_parts_gets_the_whole_file(client, kept):
    """RFC 9110 14.2: a server must ignore a range unit it does not know, and may ignore
    ranges it will not serve; either way the client gets the file, never 416."""
    _, path, whole = kept
    for asked in ("items=0-9", "bytes=0-9,20-29", "bytes=0-9, 100-199, 500-"):
        response = client.get(path, headers={"Range": asked})
        assert response.status_code == 200, asked
        assert response.data == whole and "Content-Range" not in response.headers
        assert response.headers["Accept-Ranges"] == "bytes"


SATISFIABLE = [("bytes=-500", -500, None), ("bytes=1000-", 1000, None), ("bytes=0-0", 0, 1),
               ("bytes=10-99999999999999999999999", 10, None),  # an end past the file's
               ("bytes = 5-9", 5, 10)]
UNSATISFIABLE = ["bytes={size}-", "bytes={size}-{more}", "bytes=5-2", "bytes=-0",
                 "bytes=99999999999999999999999-", "bytes=x-y", "bytes=--5", "bytes=0-9,"]


def test_ranges_of_every_satisfiable_shape_get_just_those_bytes(client, kept):
    _, path, whole = kept
    for asked, start, end in SATISFIABLE:
        response = client.get(path, headers={"Range": asked})
        expected = whole[start:end]
        first = start % len(whole)
        assert response.status_code == 206, asked
        assert response.data == expected, asked
        assert response.headers["Content-Range"] == \
            f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"


def test_a_range_that_cannot_be_served_gets_416_with_the_files_size(client, kept):
    _, path, whole = kept
    for asked in UNSATISFIABLE:
        header = asked.format(size=len(whole), more=len(whole) + 10)
        response = client.get(path, headers={"Range": header})
        assert response.status_code == 416, header
        assert response.headers["Content-Range"] == f"bytes */{len(whole)}"
        assert response.data == b""
        assert response.headers["Cache-Control"] == "no-store"


def test_a_failed_precondition_sends_none_of_the_file(client, kept):
    _, path, whole = kept
    response = client.get(path, headers={"If-Match": '"another"'})
    assert response.status_code == 412
    assert response.data == b"" and response.headers.get("Content-Length") in (None, "0")


def test_conditional_and_head_requests_send_no_body_and_the_same_headers(client, kept):
    _, path, whole = kept
    full = client.get(path)
    etag = full.headers["ETag"]
    unchanged = client.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(whole))
    part = client.head(path, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.headers["Content-Length"] == "10"
    stale = client.get(path, headers={"Range": "bytes=0-9",
                                      "If-Range": "Wed, 21 Oct 2099 07:28:00 GMT"})
    assert stale.status_code == 200 and stale.data == whole  # no Last-Modified to match


def test_an_expired_or_revoked_link_to_a_file_gets_the_same_404_as_a_wrong_one(
        app, client, runner, kept):
    office, path, _ = kept
    reference = str(office["X-Complaint-Reference"])
    with cases.store(Path(app.config["CASE_DB"])) as db:
        expired = access.issue_link(db, reference, app.config,
                                    local_now("HK") - timedelta(days=31))
    wrong = client.get("/case/file?token=" + "A" * 32 + "&n=1")
    answers = {"expired": client.get(f"/case/file?token={expired.token}&n=1"),
               "no token": client.get("/case/file?n=1"),
               "a token too long": client.get("/case/file?token=" + "A" * 5000 + "&n=1"),
               "not UTF-8": client.get("/case/file?token=%ff%fe&n=1")}
    runner.invoke(args=["cases", "revoke", reference])
    answers["revoked"] = client.get(path)
    answers["revoked, with a range"] = client.get(path, headers={"Range": "bytes=0-9"})
    for what, answer in answers.items():
        assert (answer.status_code, answer.get_data()) == (404, wrong.get_data()), what
        assert answer.headers["Referrer-Policy"] == "no-referrer", what
        assert "noindex" in answer.headers["X-Robots-Tag"], what


def test_a_file_number_that_is_not_one_of_the_cases_gets_the_same_404(client, kept):
    _, path, _ = kept
    wrong = client.get(path.replace("token=", "token=x"))
    for n in ("0", "-1", "3", "1.0", "1e0", "0x1", "99999999999999999999999999", "", "one",
              "%00"):
        response = client.get(path.rsplit("&n=", 1)[0] + f"&n={n}")
        assert (response.status_code, response.get_data()) == (404, wrong.get_data()), n


def test_a_file_is_served_as_what_it_is_privately_and_never_sniffed(client, kept):
    office, path, whole = kept
    for number, kind, name in ((1, "video/mp4", "evidence-1.mp4"),
                               (2, "audio/mp4", "evidence-2.m4a")):
        for download in ("", "&download=1"):
            response = client.get(file_path(office, number) + download)
            assert response.status_code == 200
            assert response.mimetype == kind
            disposition = "attachment" if download else "inline"
            assert response.headers["Content-Disposition"] == f'{disposition}; filename="{name}"'
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "no-store"
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert "noindex" in response.headers["X-Robots-Tag"]
    assert hashlib.sha256(whole).hexdigest() == client.get(path).headers["ETag"].strip('"')


# --- the Simplified edition: every word from the code in Simplified ------------------------------

TYPED_IN_SIMPLIFIED = {"name": "陈小明", "unit": "3座12楼B室", "subject": "升降机停用",
                       "description": "升降机经常停用", "location": "大堂", "impact": "不便",
                       "expected_resolution": "修好", "email": ""}
TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
WORDS_IN_ATTRIBUTES = re.compile(r'(?:aria-label|alt|title|placeholder|content|data-msg-[\w-]+)'
                                 r'="([^"]*)"')


def traditional_words(page: str) -> list[str]:
    """Lines of a page (its text and its words in attributes) that the site's converter would
    still change: Traditional words left on a Simplified page. The language switch, which
    names the other edition in its own script, is left out."""
    page = page.replace(">繁體中文<", "><")
    lines = html.unescape(TAG.sub("\n", page)).splitlines()
    lines += [html.unescape(words) for words in WORDS_IN_ATTRIBUTES.findall(page)]
    return [line.strip() for line in lines if line.strip() and simplified(line) != line]


def test_the_simplified_pages_of_a_complaint_with_files_say_every_word_in_simplified(
        client, tmp_path):
    note = clip(tmp_path, "m4a", seconds=2).read_bytes()
    form = client.get("/zh-hans/complaint").get_data(as_text=True)
    assert traditional_words(form) == []
    response = post_files(client, ("voice.m4a", note, "audio/mp4"), prefix="/zh-hans",
                          **TYPED_IN_SIMPLIFIED)
    assert response.headers["Location"] == "/zh-hans/complaint/review"
    review = client.get("/zh-hans/complaint/review").get_data(as_text=True)
    assert "录音" in review and traditional_words(review) == []
    sent = client.get(send_reviewed(client, "/zh-hans").headers["Location"])
    assert traditional_words(sent.get_data(as_text=True)) == []


# --- uploads: every refusal on the form, the answers kept, nothing left behind ------------------

def open_files_in(folder: Path) -> list[str]:
    """What this process still holds open in folder (an anonymous upload not yet closed)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder)):
                held.append(fd)
    return held


def refusals(tmp_path: Path) -> dict[str, tuple[list, str]]:
    """What a careless or hostile resident attaches -> (files, what the message says)."""
    note = clip(tmp_path, "m4a", seconds=2).read_bytes()
    wav = bytearray(clip(tmp_path, "wav", seconds=1).read_bytes())
    wav[4:8] = wav[40:44] = (0xFFFFFFF0).to_bytes(4, "little")  # RIFF and data say 4 GB
    photo = jpeg()
    return {
        "an empty file": ([("a.jpg", b"", "image/jpeg")], "是空的"),
        "HTML named .mp4": ([("clip.mp4", b"<html><script>alert(1)</script>", "video/mp4")],
                            "不是可接受的格式"),
        "SVG": ([("a.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")],
                "不是可接受的格式"),
        "a photo declared as HTML": ([("a.jpg", photo, "text/html")], "不是可接受的格式"),
        "an ftyp box before HTML": ([("a.mp4", note[:32] + b"<html>" * 500, "video/mp4")],
                                    "無法讀取"),
        "a truncated voice note": ([("a.m4a", note[: len(note) // 2], "audio/mp4")], "不完整"),
        "a WAV declaring 4 GB": ([("a.wav", bytes(wav), "audio/wav")], "無法讀取"),
        "seven files": ([(f"{n}.jpg", photo, "image/jpeg") for n in range(7)],
                        "最多可以附上 6 個檔案，您選了 7 個"),
    }


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_every_refused_file_is_named_on_the_form_with_the_answers_kept_and_nothing_left(
        app, client, tmp_path, prefix):
    drafts = Path(app.config["DRAFT_DIR"])
    for what, (files, message) in refusals(tmp_path).items():
        response = post_files(client, *files, prefix=prefix, **TYPED_IN_SIMPLIFIED)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, what
        assert all(html.escape(typed) in page for typed in TYPED_IN_SIMPLIFIED.values()), what
        if prefix:
            assert simplified(message) in page, what
            assert traditional_words(page) == [], what
        else:
            assert message in page, what
        assert not drafts.exists() or list(drafts.iterdir()) == [], what
        assert open_files_in(drafts) == [], what


# --- the purge, as the maintainer runs it days later ---------------------------------------------

@pytest.mark.slow
def test_the_real_purge_days_later_deletes_the_files_and_their_links_stop_working(
        app, client, kept):
    if not shutil.which("faketime"):
        pytest.skip("faketime is not installed; scripts/test installs it with apt-get")
    office, path, _ = kept
    folder = Path(app.config["CASE_FILES_DIR"]) / str(office["X-Complaint-Reference"])
    assert sorted(p.name for p in folder.iterdir()) == ["1", "2", "files.json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    env.update({f"FORMSERVER_{key}": str(app.config[key])
                for key in ("SECRET_KEY", "SITE_DIR", *INSTANCE_PATHS)})
    env.update(TZ="UTC", FAKETIME_DONT_FAKE_MONOTONIC="1")
    later = local_now("HK") + timedelta(days=app.config["CASE_KEEP_DAYS"] + 1)
    run = subprocess.run(["faketime", "-f", f"@{later.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                          sys.executable, "-m", "flask", "--app", "formserver", "purge"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert "purged 1 case(s)" in run.stdout
    assert not folder.exists() and list(folder.parent.iterdir()) == []
    for link in (path, case_path(office)):
        assert client.get(link).status_code == 404


# --- what logs and the office learn of the files ------------------------------------------------

CHOSEN_NAME = "黃秘密 chan.taiman@example.com IMG_4242"


def test_no_log_line_and_nothing_the_office_sees_of_a_deidentified_complaint_names_its_files(
        app, client, smtp_server, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    app.config["MAIL_MAX_BYTES"] = MB  # the video linked, the rest attached
    video = phone_video(tmp_path / "lift.mp4", int(1.2 * MB), seconds=3).read_bytes()
    note = clip(tmp_path, "m4a", seconds=2).read_bytes()
    post_files(client, (CHOSEN_NAME + ".mp4", video[: len(video) // 2], "video/mp4"))  # refused
    complaint_with(client, (CHOSEN_NAME + ".mp4", video, "video/mp4"),
                   (CHOSEN_NAME + ".m4a", note, "audio/mp4"),
                   (CHOSEN_NAME + ".jpg", camera_photo(), "image/jpeg"), anonymize="y")
    office = office_email(app, smtp_server)
    seen = [office.as_string(), client.get(case_path(office)).get_data(as_text=True)]
    seen += [client.get(file_path(office, n)).data.decode("latin-1") for n in (1, 2, 3)]
    logged = [r.getMessage() for r in caplog.records if r.name.startswith(("formserver", "werkzeug",
                                                                           "flask", "libav"))]
    assert any("accepted" in line for line in logged)  # the log was captured
    for secret in ("黃秘密", "chan.taiman", "IMG_4242", VALID_COMPLAINT["name"],
                   VALID_COMPLAINT["phone"], CAMERA_MODEL, "Lift stuck", "Chan Tai Man"):
        assert [line for line in logged if secret in line] == [], secret
        assert [text[:80] for text in seen if secret in text] == [], secret
    assert "拍攝時間" not in seen[1]


# --- a request too large for another reason than its files' size ---------------------------------

@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_forty_photos_without_the_script_are_not_called_too_large(client, prefix):
    """A phone's picker takes any number of photos; without JavaScript they all arrive. Forty
    small photos are far under the size limit: werkzeug stops at too many parts (FORM_PARTS),
    and the page must say what is wrong (too many files), not that the files are too big."""
    photo = jpeg()
    response = post_files(client, *[(f"IMG_{n}.jpg", photo, "image/jpeg") for n in range(40)],
                          prefix=prefix)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    for words in ("最多可以附上 6 個檔案", "太多"):
        assert (simplified(words) if prefix else words) in page
    for wrong in ("上載的檔案太大", "合共超過了可以接收的大小"):
        assert (simplified(wrong) if prefix else wrong) not in page
    if prefix:
        assert traditional_words(page) == []


def test_a_follow_up_of_two_megabytes_is_told_its_text_is_too_long_not_its_files(client):
    body = urlencode({"reference": "20260101-ABC-DEF", "access_code": "X",
                      "details": "漏水" * 400_000}).encode()
    response = client.post("/follow-up", data=body,
                           content_type="application/x-www-form-urlencoded")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "文字太長" in page and "檔案" not in page.split("<main", 1)[-1].split("電話")[0]


# --- under gunicorn: a body that ends before its Content-Length ---------------------------------

def worker_files_in(folder: Path) -> list[str]:
    """Files in folder that any process of this machine still holds open (gunicorn's workers)."""
    held = []
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd).startswith(str(folder)):
                held.append(str(fd))
    return held


@pytest.mark.slow
def test_an_upload_cut_short_of_its_content_length_is_refused_and_leaves_nothing(
        tmp_path, smtp_server, built_site):
    port = free_port()
    env = server_env(tmp_path, smtp_server, built_site)
    env["WEB_CONCURRENCY"] = "1"
    service = Service("gunicorn", gunicorn_command(port), env, tmp_path / "gunicorn.log",
                      port).start()
    try:
        browser = Browser(port)
        _, _, form = browser.request("GET", "/complaint")
        body, content_type = multipart({**VALID_COMPLAINT, **hidden_inputs(form)},
                                       [("evidence", "a.jpg", "image/jpeg", jpeg() * 200)])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            cookies = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
            conn.sendall(f"POST /complaint HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookies}\r\n"
                         f"Content-Type: {content_type}\r\nContent-Length: {len(body) * 2}\r\n"
                         "Connection: close\r\n\r\n".encode() + body[: len(body) // 2])
            conn.shutdown(socket.SHUT_WR)  # the phone lost its signal
            answer = b"".join(iter(lambda: conn.recv(65536), b""))
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer[:300]
        assert browser.request("GET", "/complaint")[0] == 200  # the worker is still there
        drafts = tmp_path / "drafts"
        assert not drafts.exists() or list(drafts.iterdir()) == []
        assert worker_files_in(drafts) == []
        assert "Traceback" not in service.output(20_000)
    finally:
        service.stop()
