"""Evidence as residents record it: files that fit go in the office's email, the rest are linked;
every file is kept with the case, sealed, played and downloaded from the case page with range
requests, and deleted with the case. Real clips (PyAV), a real SMTP server, exiftool."""

from __future__ import annotations

import hashlib
import io
import re
import time
from datetime import timedelta
from pathlib import Path

import av
import pytest
from crafted import (
    clip,
    decoded_frames,
    leaks,
    located,
    needs_exiftool,
    phone_video,
    read_tags,
)
from helpers import (
    VALID_COMPLAINT,
    hidden_fields,
    multipart,
    send_form_fields,
)
from loop_helpers import (
    attachments,
    case_path,
    complaint_with,
    deliver,
    file_path,
    office_email,
    post_files,
    record_of,
    text_of,
    to,
)

from formserver import case_files, reminders
from formserver.messages import encoded_size
from formserver.privacy import segmenter
from formserver.workdays import local_now

MB = 1024 * 1024


def seconds_of(data: bytes) -> float:
    """A recording's length as FFmpeg reads it from its header."""
    with av.open(io.BytesIO(data)) as container:
        return container.duration / av.time_base


@pytest.fixture
def voice_note(tmp_path) -> bytes:
    return clip(tmp_path, "m4a", seconds=3).read_bytes()


@pytest.fixture
def video(tmp_path) -> bytes:
    """A 1.5 MB clip: linked when MAIL_MAX_BYTES is 1 MB."""
    return phone_video(tmp_path / "lift.mp4", int(1.5 * MB), seconds=4).read_bytes()


# --- the office's email: attached while it fits, linked after ------------------------------------

def test_a_file_that_would_make_the_email_too_large_is_linked_and_a_later_voice_note_attached(
        app, client, smtp_server, tmp_path, video, voice_note):
    app.config["MAIL_MAX_BYTES"] = MB
    complaint_with(client, ("IMG_0042.MP4", video, "video/mp4"),
                   ("voice.m4a", voice_note, "audio/mp4"))
    office = office_email(app, smtp_server)
    assert len(smtp_server.handler.messages[-1].content) <= MB
    files = attachments(office)
    assert "evidence-1.mp4" not in files and "evidence-2.m4a" in files
    [first, second] = record_of(office)["evidence"]
    assert first["attached"] is False and second["attached"] is True
    assert first["kind"] == "video"
    assert first["duration"] == pytest.approx(seconds_of(video), abs=0.2)
    assert first["sha256"] == hashlib.sha256(video).hexdigest()
    assert first["url"].endswith("&n=1") and "/case/file?token=" in first["url"]
    text = text_of(office)
    line = next(line for line in text.splitlines() if line.startswith("evidence-1.mp4"))
    assert "影片" in line and "MB" in line and "秒" in line and "沒有附在郵件中" in line
    assert first["url"] in text and first["sha256"] in text
    html = office.get_body(("html",)).get_content()
    assert f'href="{first["url"]}"' in html.replace("&amp;", "&") and first["sha256"] in html
    # the link opens the very file the case keeps: cleaned, not the original
    downloaded = client.get(file_path(office, 1))
    assert downloaded.status_code == 200 and downloaded.mimetype == "video/mp4"
    assert decoded_frames(write(tmp_path / "got.mp4", downloaded.data))["video"] > 0


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_what_fits_goes_in_the_email_and_the_email_stays_under_the_limit(
        app, client, smtp_server, tmp_path, video):
    app.config["MAIL_MAX_BYTES"] = 5 * MB  # two clips fit (2 MB each in base64), not three
    complaint_with(client, *[(f"clip-{n}.mp4", video, "video/mp4") for n in (1, 2, 3)])
    office = office_email(app, smtp_server)
    assert [e["attached"] for e in record_of(office)["evidence"]] == [True, True, False]
    size = len(smtp_server.handler.messages[-1].content)
    assert 2 * encoded_size(len(attachments(office)["evidence-1.mp4"])) < size <= 5 * MB


def test_a_voice_note_is_attached_and_the_case_page_has_it_too(app, client, smtp_server,
                                                              tmp_path, voice_note):
    complaint_with(client, ("voice.m4a", voice_note, "audio/mp4"))
    office = office_email(app, smtp_server)
    attached = attachments(office)["evidence-1.m4a"]
    page = client.get(case_path(office)).get_data(as_text=True)
    assert re.search(r'<audio controls preload="metadata" src="/case/file\?token=[^"&]+&amp;n=1"',
                     page)
    assert hashlib.sha256(voice_note).hexdigest() in page and "錄音" in page
    assert client.get(file_path(office, 1)).data == attached


# --- the case page: every file, played and downloaded with ranges -----------------------------

@pytest.fixture
def kept_video(app, client, smtp_server, tmp_path, video):
    """The office's email of a complaint with a photo-less video; the video's bytes as kept."""
    complaint_with(client, ("IMG_0042.MP4", video, "video/mp4"))
    office = office_email(app, smtp_server)
    return office, client.get(file_path(office, 1)).data


def test_a_range_request_gets_206_with_just_those_bytes(client, kept_video):
    office, whole = kept_video
    path = file_path(office, 1)
    full = client.get(path)
    assert full.headers["Accept-Ranges"] == "bytes" and full.content_length == len(whole)
    for asked, start, end in (("bytes=0-99", 0, 99), ("bytes=100000-", 100000, len(whole) - 1),
                              ("bytes=-500", len(whole) - 500, len(whole) - 1),
                              ("bytes=65530-65545", 65530, 65545)):  # across two sealed chunks
        part = client.get(path, headers={"Range": asked})
        assert part.status_code == 206, asked
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{len(whole)}"
        assert part.data == whole[start:end + 1], asked


def test_a_range_past_the_end_gets_416_and_if_range_follows_the_etag(client, kept_video):
    office, whole = kept_video
    path = file_path(office, 1)
    beyond = client.get(path, headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(whole)}"
    etag = client.get(path).headers["ETag"]
    assert etag.strip('"') == hashlib.sha256(whole).hexdigest()
    same = client.get(path, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.data == whole[:10]
    changed = client.get(path, headers={"Range": "bytes=0-9", "If-Range": '"another"'})
    assert changed.status_code == 200 and changed.data == whole


def test_the_case_page_plays_the_video_and_offers_its_download(client, kept_video):
    office, whole = kept_video
    page = client.get(case_path(office))
    html = page.get_data(as_text=True)
    assert re.search(r'<video controls preload="metadata" src="/case/file\?token=', html)
    assert "下載 evidence-1.mp4" in html and "影片" in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]  # media from 'self'
    download = client.get(file_path(office, 1) + "&download=1")
    assert download.headers["Content-Disposition"] == 'attachment; filename="evidence-1.mp4"'
    assert download.data == whole
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("change", ["wrong token", "no such file", "not a number"])
def test_a_wrong_link_or_file_number_gets_the_same_404(client, kept_video, change):
    office, _ = kept_video
    path = {"wrong token": file_path(office, 1).replace("token=", "token=x"),
            "no such file": file_path(office, 2),
            "not a number": file_path(office, 1) + "x"}[change]
    response = client.get(path)
    assert response.status_code == 404 and "找不到" in response.get_data(as_text=True)


def test_the_files_are_sealed_at_rest(app, kept_video):
    office, whole = kept_video
    reference = str(office["X-Complaint-Reference"])
    folder = Path(app.config["CASE_FILES_DIR"]) / reference
    stored = (folder / "1").read_bytes()
    assert whole[1000:1064] not in stored and b"ftyp" not in stored and b"mdat" not in stored
    assert b"sha256" not in (folder / "files.json").read_bytes()


def test_the_purge_removes_the_cases_files_and_those_left_without_a_case(app, kept_video):
    office, _ = kept_video
    reference = str(office["X-Complaint-Reference"])
    files_dir = Path(app.config["CASE_FILES_DIR"])
    orphan = files_dir / "20240101-ABC-DEF"  # a case whose store was broken when it was sent
    orphan.mkdir()
    (orphan / "1").write_bytes(b"sealed")
    assert reminders.purge_cases(app.config, local_now("HK")) == []
    assert (files_dir / reference).is_dir() and orphan.is_dir()  # too young to be an orphan
    later = local_now("HK") + timedelta(days=app.config["CASE_KEEP_DAYS"] + 1)
    assert reminders.purge_cases(app.config, later) == [reference]
    assert sorted(files_dir.iterdir()) == []


# --- the form and the review ----------------------------------------------------------------

def test_the_review_page_shows_each_files_kind_size_and_duration(client, tmp_path, video,
                                                                 voice_note):
    response = post_files(client, ("IMG_0042.MP4", video, "video/mp4"),
                          ("voice.m4a", voice_note, "audio/mp4"))
    assert response.status_code == 303
    page = client.get("/complaint/review").get_data(as_text=True)
    assert re.search(rf"evidence-1\.mp4（影片，1\.\d MB，長 {round(seconds_of(video))} 秒）", page)
    assert re.search(r"evidence-2\.m4a（錄音，\d+ KB，長 3 秒）", page)


def test_a_truncated_video_is_refused_with_a_clear_message(client, tmp_path, video):
    response = post_files(client, ("IMG_0042.MP4", video[: len(video) * 2 // 3], "video/mp4"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "「IMG_0042.MP4」" in html and "不完整" in html and "重新錄製" in html


def test_a_photo_over_the_in_memory_limit_is_refused_before_it_is_read(client, monkeypatch):
    from formserver import uploads

    monkeypatch.setattr(uploads, "MAX_IN_MEMORY_SIZE", 1000)
    photo = b"\xff\xd8\xff\xe0" + bytes(2000)
    html = post_files(client, ("big.jpg", photo, "image/jpeg")).get_data(as_text=True)
    assert "「big.jpg」太大：相片和 PDF 文件每個最多" in html


def test_the_form_carries_the_scripts_limits_and_messages(app, client):
    html = client.get("/complaint").get_data(as_text=True)
    assert re.search(r'<script defer src="/static/upload\.[0-9a-f]+\.js"></script>', html)
    assert f'data-max-file-size="{app.config["MAX_FILE_SIZE"]}"' in html
    assert f'data-max-total-size="{app.config["MAX_TOTAL_SIZE"]}"' in html
    assert 'data-msg-too-large="檔案「{name}」有 {size}，太大' in html
    assert '<form method="post" action="/complaint" enctype="multipart/form-data" novalidate ' \
           'data-upload>' in html
    assert 'id="upload-status"' in html and 'id="upload-progress"' in html


def test_the_app_answers_a_201_mb_complaint_with_its_413_page(app, client, tmp_path):
    """The embedded default, without nginx: refused from its Content-Length, before the body
    is read (a sparse file: 201 MB that take no room)."""
    body = tmp_path / "body"
    with body.open("wb") as out:
        out.truncate(201 * MB + 1)
    with body.open("rb") as stream:
        response = client.post("/complaint", input_stream=stream, content_length=201 * MB + 1,
                               content_type="multipart/form-data; boundary=x")
        assert stream.tell() < MB
    assert app.config["MAX_CONTENT_LENGTH"] == 201 * MB  # the default
    assert response.status_code == 413
    assert "上載的檔案太大" in response.get_data(as_text=True)


def test_a_follow_up_is_held_to_the_small_limit(client):
    response = client.post("/follow-up", data={"details": "x" * (1 * MB + 1)})
    assert response.status_code == 413


# --- a phone's video, for real -----------------------------------------------------------------

def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def growth_of(step) -> tuple[object, int]:
    """What step returns, and how far this process's resident memory rose above what it was
    before (VmHWM, reset first: C allocations, FFmpeg's included)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = status_kib("VmRSS")
    result = step()
    return result, (status_kib("VmHWM") - before) * 1024


@pytest.mark.slow
@needs_exiftool
def test_a_60_mb_video_is_linked_streamed_with_ranges_and_arrives_without_metadata(
        app, client, smtp_server, tmp_path, voice_note):
    original = phone_video(tmp_path / "IMG_0042.MP4", 60 * MB, seconds=60)
    assert original.stat().st_size > 60_000_000
    assert located(read_tags(original)) and leaks(read_tags(original))  # a location and a title
    data = original.read_bytes()
    fields = {**VALID_COMPLAINT, **hidden_fields(client), "email": "", "anonymize": "y"}
    segmenter.preload()  # once per worker (its dictionary, about 70 MB), not per upload
    body, content_type = multipart(fields, [("evidence", "IMG_0042.MP4", "video/mp4", data),
                                            ("evidence", "voice.m4a", "audio/mp4", voice_note)])
    growth = {}
    response, growth["receive"] = growth_of(
        lambda: client.post("/complaint", data=body, content_type=content_type))
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    review, growth["review"] = growth_of(lambda: client.get("/complaint/review"))
    assert "evidence-1.mp4（影片" in review.get_data(as_text=True)
    send = send_form_fields(review.get_data(as_text=True))
    sent, growth["send"] = growth_of(lambda: client.post("/complaint/send", data=send))
    assert sent.status_code == 303
    messages, growth["deliver"] = growth_of(lambda: deliver(app, smtp_server))
    [office] = to(messages, "office@estate.test")

    assert set(attachments(office)) == {"evidence-2.m4a", "complaint.json"}  # the voice note
    video = record_of(office)["evidence"][0]
    assert video["attached"] is False and video["sha256"] != hashlib.sha256(data).hexdigest()
    path = file_path(office, 1)
    assert video["url"].endswith(path)
    start = 30 * MB
    part = client.get(path, headers={"Range": f"bytes={start}-{start + MB - 1}"})
    assert part.status_code == 206 and len(part.data) == MB

    def download() -> Path:
        response = client.get(path, buffered=False)
        with (tmp_path / "downloaded.mp4").open("wb") as out:
            out.writelines(response.response)
        response.close()
        return tmp_path / "downloaded.mp4"

    downloaded, growth["download"] = growth_of(download)
    assert downloaded.read_bytes()[start:start + MB] == part.data
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == video["sha256"]  # (脫敏)
    tags = read_tags(downloaded)
    assert leaks(tags) == [] and located(tags) == [], tags
    assert decoded_frames(downloaded)["video"] > 1000  # plays, all 60 seconds of it
    assert all(rise < 32 * MB for rise in growth.values()), {k: v // MB for k, v in growth.items()}


def test_a_draft_kept_while_its_files_are_sealed_in_chunks(app, client, tmp_path, video):
    """The draft folder holds the video sealed, never the plaintext, and nothing named is
    left beside it once the request is over."""
    post_files(client, ("IMG_0042.MP4", video, "video/mp4"))
    drafts_dir = Path(app.config["DRAFT_DIR"])
    [draft] = [p for p in drafts_dir.iterdir() if p.is_dir()]
    sealed = [p for p in draft.iterdir() if p.name.startswith("evidence-")]
    assert len(sealed) == 1 and video[2000:2064] not in sealed[0].read_bytes()
    assert [p.name for p in drafts_dir.iterdir()] == [draft.name]
    assert sealed[0].stat().st_size > len(video) * 0.9
    assert time.time() - sealed[0].stat().st_mtime < 60


def test_case_files_cannot_be_swapped_between_cases(tmp_path):
    from formserver.evidence import Evidence, InMemory

    files_dir = tmp_path / "case-files"
    item = Evidence(ext="jpg", sha256="0" * 64, size=5, source=InMemory(b"photo"))
    for reference in ("20240101-ABC-DEF", "20240101-ABC-DEG"):
        case_files.store(files_dir, reference, [item], "secret")
    (files_dir / "20240101-ABC-DEF" / "1").replace(files_dir / "20240101-ABC-DEG" / "1")
    from formserver.sealed import Unreadable

    with pytest.raises(Unreadable), case_files.open_file(files_dir, "20240101-ABC-DEG", 1,
                                                          "secret") as reader:
        reader.read()
