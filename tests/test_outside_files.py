"""An outsider's attack on the evidence files: the case page's downloads (tokens, file numbers,
ranges of every shape, conditional requests, headers), uploads that are malformed or lie about
their kind and size, both editions, the purge, and what logs and the office may learn. Real
clips (PyAV), a real SMTP server, the real `flask purge` under libfaketime."""

from __future__ import annotations

from pathlib import Path

import pytest
from crafted import clip, phone_video
from helpers import INSTANCE_PATHS, make_app, server_env
from test_files import complaint_with, file_path, office_email

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


@pytest.mark.parametrize("asked", ["items=0-9", "bytes=0-9,20-29", "bytes=0-9, 100-199, 500-"])
def test_a_range_in_another_unit_or_of_several_parts_gets_the_whole_file(client, kept, asked):
    """RFC 9110 14.2: a server must ignore a range unit it does not know, and may ignore
    ranges it will not serve; either way the client gets the file, never 416."""
    _, path, whole = kept
    response = client.get(path, headers={"Range": asked})
    assert response.status_code == 200, response.status_code
    assert response.data == whole and "Content-Range" not in response.headers
    assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(("asked", "start", "end"), [
    ("bytes=-500", -500, None), ("bytes=1000-", 1000, None), ("bytes=0-0", 0, 1),
    ("bytes=10-99999999999999999999999", 10, None),  # an end past the file: up to its end
    ("bytes = 5-9", 5, 10),
])
def test_ranges_of_every_satisfiable_shape_get_just_those_bytes(client, kept, asked, start,
                                                                 end):
    _, path, whole = kept
    response = client.get(path, headers={"Range": asked})
    expected = whole[start:end]
    first = start % len(whole)
    assert response.status_code == 206, asked
    assert response.data == expected
    assert response.headers["Content-Range"] == \
        f"bytes {first}-{first + len(expected) - 1}/{len(whole)}"


@pytest.mark.parametrize("asked", ["bytes={size}-", "bytes={size}-{more}", "bytes=5-2",
                                   "bytes=-0", "bytes=99999999999999999999999-", "bytes=x-y",
                                   "bytes=--5"])
def test_a_range_that_cannot_be_served_gets_416_with_the_files_size(client, kept, asked):
    _, path, whole = kept
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
