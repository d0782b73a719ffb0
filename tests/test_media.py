"""Video and audio: checked by decoding, remuxed without metadata (or without the location),
read back with exiftool, played back with FFmpeg."""

from __future__ import annotations

import shutil
import subprocess

import av
import pytest
from crafted import (
    CLIP_KINDS,
    TITLE,
    clip,
    decoded_frames,
    leaks,
    located,
    needs_exiftool,
    read_tags,
    with_apple_location,
    write_tags,
)
from helpers import camera_photo

from formserver.privacy.media import (
    MEDIA_CODEC,
    MEDIA_TRUNCATED,
    clean_media_file,
)
from formserver.privacy.uncleanable import MEDIA_REFUSAL, UncleanableFile

KINDS = [row[0] for row in CLIP_KINDS]
ISO_KINDS = ["mp4", "mov", "hevc.mov", "3gp", "m4a"]
# FFmpeg reads and writes a title in these containers (not in 3GPP's own tags, nor in AMR).
TITLED_KINDS = ["mp4", "mov", "hevc.mov", "m4a", "webm", "mp3", "wav", "ogg"]


def ext_of(kind: str) -> str:
    return kind.rsplit(".", 1)[-1]


def cleaned(tmp_path, original, kind, keep_metadata):
    target = tmp_path / f"cleaned.{ext_of(kind)}"
    media = clean_media_file(original, target, ext_of(kind), keep_metadata=keep_metadata)
    return target, media


def tagged_clip(tmp_path, kind):
    """A clip of this kind with every tag FFmpeg and (for MP4 and MOV) exiftool can write."""
    original = clip(tmp_path, kind)
    return with_apple_location(original) if kind in ISO_KINDS else original


@needs_exiftool
@pytest.mark.parametrize("kind", KINDS)
def test_a_deidentified_recording_keeps_no_metadata_at_all_and_still_plays(tmp_path, kind):
    original = tagged_clip(tmp_path, kind)
    before = read_tags(original)
    assert kind == "amr" or leaks(before), "the original carries the metadata"
    target, media = cleaned(tmp_path, original, kind, keep_metadata=False)
    after = read_tags(target)
    assert leaks(after) == []
    assert located(after) == []
    assert not [key for key in after if key.split(":")[0] in ("Keys", "ItemList", "ID3v2_4")]
    assert media.captured_at is None
    frames = decoded_frames(target)
    has_video = dict((row[0], row[2]) for row in CLIP_KINDS)[kind] is not None
    assert frames["audio"] > 0
    assert (frames["video"] > 0) == has_video == (media.family == "video")


@needs_exiftool
@pytest.mark.parametrize("kind", KINDS)
def test_without_deidentification_only_the_location_goes(tmp_path, kind):
    original = tagged_clip(tmp_path, kind)
    target, media = cleaned(tmp_path, original, kind, keep_metadata=True)
    after = read_tags(target)
    assert located(after) == []
    if kind in TITLED_KINDS:
        assert TITLE in str(after.values()), after
    if kind not in ("amr", "wav", "ogg"):  # where FFmpeg finds a creation time
        assert media.captured_at == "2024-03-15 14:30:00 UTC"
    assert decoded_frames(target)["audio"] > 0


@pytest.mark.parametrize("kind", KINDS)
def test_the_duration_is_measured_from_the_packets(tmp_path, kind):
    original = clip(tmp_path, kind, seconds=2)
    _, media = cleaned(tmp_path, original, kind, keep_metadata=False)
    assert media.duration == pytest.approx(2.0, abs=0.2)


def test_an_mp4_that_holds_only_sound_is_taken_for_an_m4a(tmp_path):
    original = tmp_path / "voice.mp4"
    from crafted import make_clip

    make_clip(original, "mp4", None, "aac")
    media = clean_media_file(original, tmp_path / "out", "mp4", keep_metadata=False)
    assert (media.ext, media.family) == ("m4a", "audio")
    with av.open(str(tmp_path / "out")) as container:
        assert "ipod" in container.format.name or "m4a" in container.format.name


@needs_exiftool
def test_a_phone_video_stays_upright(tmp_path):
    original = clip(tmp_path, "mp4")
    write_tags(original, "-Rotation=90")
    target, _ = cleaned(tmp_path, original, "mp4", keep_metadata=False)
    assert read_tags(target)["Composite:Rotation"] == 90


@pytest.mark.skipif(shutil.which("ffmpeg") is None,
                    reason="ffmpeg is not installed (scripts/test installs it)")
@needs_exiftool
def test_cover_art_with_its_own_gps_is_dropped(tmp_path):
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(camera_photo())  # EXIF with GPS
    song = clip(tmp_path, "mp3")
    with_cover = tmp_path / "with-cover.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", song, "-i", cover, "-map", "0",
                    "-map", "1", "-c", "copy", "-disposition:v", "attached_pic", with_cover],
                   check=True, timeout=60)
    assert "ID3v2_4:Picture" in read_tags(with_cover) or "ID3v2_4:PictureMIMEType" in read_tags(
        with_cover)
    for keep in (False, True):
        target = tmp_path / f"cleaned-{keep}.mp3"
        clean_media_file(with_cover, target, "mp3", keep_metadata=keep)
        tags = read_tags(target)
        assert not [key for key in tags if "Picture" in key], tags
        assert located(tags) == []


@pytest.mark.parametrize("cut", ["the movie header at the end", "half of the pictures"])
def test_a_truncated_video_is_refused_with_a_clear_message(tmp_path, cut):
    original = clip(tmp_path, "mp4", seconds=2)
    if cut == "half of the pictures":  # the movie header first, as phones that stream do
        moved = tmp_path / "faststart.mp4"
        with av.open(str(original)) as inp, av.open(
                str(moved), "w", format="mp4", options={"movflags": "faststart"}) as out:
            streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
            for packet in inp.demux():
                if packet.dts is not None:
                    packet.stream = streams[packet.stream.index]
                    out.mux(packet)
        data = moved.read_bytes()
        assert data.find(b"moov") < data.find(b"mdat")
        broken = data[: len(data) // 2]
    else:
        broken = original.read_bytes()[:-400]
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(broken)
    with pytest.raises(UncleanableFile) as refusal:
        clean_media_file(truncated, tmp_path / "out.mp4", "mp4", keep_metadata=False)
    assert str(refusal.value) == MEDIA_TRUNCATED
    assert "不完整" in MEDIA_TRUNCATED and "重新錄製後再試" in MEDIA_TRUNCATED


@pytest.mark.parametrize(("ext", "data"), [
    ("mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x7fELF\x02\x01\x01"
     + bytes(range(256)) * 40),
    ("mp3", b"\xff\xfb\x90\x64" + b"<!doctype html><html><body>" + b"<p>hello</p>" * 300),
    ("wav", b"RIFF\x00\x10\x00\x00WAVE" + b"PK\x03\x04" + bytes(4000)),
    ("ogg", b"OggS" + bytes(4000)),
    ("webm", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm" + bytes(4000)),
    ("amr", b"#!AMR\n" + b"\xff" * 10),
])
def test_fake_media_with_the_right_first_bytes_is_refused(tmp_path, ext, data):
    fake = tmp_path / f"fake.{ext}"
    fake.write_bytes(data)
    with pytest.raises(UncleanableFile) as refusal:
        clean_media_file(fake, tmp_path / f"out.{ext}", ext, keep_metadata=True)
    # a body of garbage after a real header reads as a damaged recording
    assert str(refusal.value) == MEDIA_REFUSAL or ext == "amr" and str(refusal.value) == (
        MEDIA_TRUNCATED)


def test_a_codec_outside_the_accepted_kinds_is_refused(tmp_path):
    from crafted import make_clip

    original = make_clip(tmp_path / "mpeg2.mov", "mov", "mpeg2video", None)
    with pytest.raises(UncleanableFile) as refusal:
        clean_media_file(original, tmp_path / "out.mov", "mov", keep_metadata=True)
    assert str(refusal.value) == MEDIA_CODEC
