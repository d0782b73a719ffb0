"""Evidence as the form takes it: kinds judged by parsing, pixels bounded, capture times only
without 脫敏, and recordings that reach the office's mailbox without their metadata."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import crafted
import pytest
from crafted import clip, leaks, located, needs_exiftool, read_tags, with_apple_location
from helpers import camera_photo, office_message, submit, upload
from PIL import Image

from formserver import delivery
from formserver.evidence import close_all, deidentify_file, prepare, sniff
from formserver.uploads import EvidenceError, read_uploads

LIMITS = {"max_files": 6, "max_file_size": 5 * 1024 * 1024, "max_total_size": 7 * 1024 * 1024}


def read(files, anonymize=False, **limits):
    """The evidence as described (its cleaned files let go at once)."""
    evidence = read_uploads(files, anonymize=anonymize, **{**LIMITS, **limits})
    close_all(evidence)
    return evidence


def png_of(size) -> bytes:
    out = io.BytesIO()
    Image.new("1", size).save(out, format="PNG")
    return out.getvalue()


def test_six_9000_by_9000_pngs_are_refused_at_the_first_with_its_name():
    bomb = png_of((9000, 9000))
    files = [upload(bomb, f"bomb-{n}.png", "image/png") for n in range(1, 7)]
    with pytest.raises(EvidenceError) as refusal:
        read(files, anonymize=True)
    message = str(refusal.value)
    assert "「bomb-1.png」" in message and "81 百萬像素" in message and "40 百萬像素" in message
    assert "請把相片縮小" in message


def test_photos_are_bounded_in_pixels_for_the_whole_complaint_too():
    photo = png_of((2000, 2000))  # 4 megapixels each
    files = [upload(photo, name, "image/png") for name in ("first.png", "second.png", "third.png")]
    with pytest.raises(EvidenceError) as refusal:
        read(files, max_image_pixels=5_000_000, max_total_pixels=10_000_000)
    assert "「third.png」" in str(refusal.value) and "合共最多 10 百萬像素" in str(refusal.value)
    files = [upload(photo, name, "image/png") for name in ("first.png", "second.png")]
    assert len(read(files, max_image_pixels=5_000_000, max_total_pixels=10_000_000)) == 2


@pytest.mark.parametrize("kind", [row[0] for row in crafted.CLIP_KINDS])
def test_every_accepted_kind_of_recording_is_taken_with_its_duration(tmp_path, kind):
    data = clip(tmp_path, kind, seconds=2).read_bytes()
    ext = kind.rsplit(".", 1)[-1]
    assert sniff(data) == ext
    [item] = read([upload(data, f"clip.{ext}")])
    assert item.ext == ext and item.family in ("video", "audio")
    assert item.duration == pytest.approx(2.0, abs=0.2)
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.gps_removed and not item.deidentified


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "x" * 1000)
    return out.getvalue()


@pytest.mark.parametrize(("name", "data", "mimetype"), [
    ("clip.mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x7fELF\x02\x01\x01"
     + bytes(2000), "video/mp4"),
    ("voice.mp3", b"\xff\xfb\x90\x64<!doctype html><script>alert(1)</script>" + b" " * 2000,
     "audio/mpeg"),
    ("voice.wav", b"RIFF\x00\x10\x00\x00WAVE" + zip_archive(), "audio/wav"),
])
def test_fake_media_is_refused_with_what_to_do(name, data, mimetype):
    assert sniff(data) is not None  # the first bytes are right
    with pytest.raises(EvidenceError) as refusal:
        read([upload(data, name, mimetype)])
    assert f"「{name}」" in str(refusal.value)
    assert "請把影片另存或重新錄製後再試" in str(refusal.value)


def test_a_truncated_video_is_refused_naming_the_file(tmp_path):
    data = clip(tmp_path, "mov", seconds=2).read_bytes()[:-300]
    with pytest.raises(EvidenceError) as refusal:
        read([upload(data, "IMG_0042.MOV", "video/quicktime")])
    assert "「IMG_0042.MOV」" in str(refusal.value) and "不完整" in str(refusal.value)


def test_a_phone_may_call_a_voice_note_a_video():
    data = clip_bytes("m4a")
    [item] = read([upload(data, "voice.m4a", "video/mp4")])
    assert item.family == "audio"


def clip_bytes(kind):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        return clip(Path(folder), kind).read_bytes()


@pytest.mark.parametrize("kind", ["photo", "video"])
def test_the_capture_time_is_kept_only_without_deidentification(tmp_path, kind):
    if kind == "photo":
        data, ext, expected = camera_photo(), "jpg", "2024-03-15 14:30:00"
    else:
        data, ext, expected = clip(tmp_path, "mp4").read_bytes(), "mp4", "2024-03-15 14:30:00 UTC"
    kept = prepare(io.BytesIO(data), ext, anonymize=False)
    hidden = prepare(io.BytesIO(data), ext, anonymize=True)
    later = deidentify_file(kept)  # 脫敏 asked on the review page, files kept
    cleaned = {"hidden": hidden.read_bytes(), "later": later.read_bytes()}
    close_all([kept, hidden, later])
    assert kept.captured_at == expected and kept.sha256 == hashlib.sha256(data).hexdigest()
    assert hidden.captured_at is None and hidden.deidentified
    assert later.captured_at is None and later.deidentified
    # De-identified, the hash is the cleaned file's: the original's would point to its copies.
    assert hidden.sha256 == hashlib.sha256(cleaned["hidden"]).hexdigest() != kept.sha256
    assert later.sha256 == hashlib.sha256(cleaned["later"]).hexdigest() != kept.sha256


@needs_exiftool
def test_a_recording_kept_from_a_draft_is_deidentified_when_sent(tmp_path):
    original = with_apple_location(clip(tmp_path, "mov"))
    kept = prepare(io.BytesIO(original.read_bytes()), "mov", anonymize=False)
    later = deidentify_file(kept)
    cleaned = tmp_path / "cleaned.mov"
    cleaned.write_bytes(later.read_bytes())
    close_all([kept, later])
    assert leaks(read_tags(cleaned)) == [] and located(read_tags(cleaned)) == []


def attachment(office, prefix: str):
    [part] = [p for p in office.iter_attachments() if p.get_filename().startswith(prefix)]
    return part


@needs_exiftool
@pytest.mark.parametrize("anonymize", ["y", None], ids=["anonymized", "not anonymized"])
def test_a_video_with_a_location_and_a_title_reaches_the_office_as_asked(
        app, client, smtp_server, tmp_path, anonymize):
    original = with_apple_location(clip(tmp_path, "mov"))
    data = original.read_bytes()
    response = submit(client, anonymize=anonymize,
                      files=[upload(data, "IMG_0042.MOV", "video/quicktime")])
    assert response.status_code == 303
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    received = tmp_path / "received.mov"
    received.write_bytes(attachment(office, "evidence-1").get_content())
    tags = read_tags(received)
    assert located(tags) == []
    if anonymize:
        assert leaks(tags) == []
    else:
        assert crafted.TITLE in str(tags.values())
    assert crafted.decoded_frames(received)["video"] > 0
    [record] = [json.loads(p.get_content()) for p in office.iter_attachments()
                if p.get_filename() == "complaint.json"]
    [item] = record["evidence"]
    # The original's hash, or under 脫敏 the hash of what the office received.
    delivered = received.read_bytes() if anonymize else data
    assert item["sha256"] == hashlib.sha256(delivered).hexdigest()
    assert item["captured_at"] == (None if anonymize else "2024-03-15 14:30:00 UTC")
