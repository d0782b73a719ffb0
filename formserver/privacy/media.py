"""Video and audio evidence: checked by decoding it, then remuxed without its metadata.

FFmpeg's demuxers and muxers (through PyAV) rewrite the container from the compressed packets
alone, so nothing the camera or an app wrote beside the pictures and the sound survives unless it
is copied on purpose: no title, author, location, creation time or encoder, and no data, subtitle,
chapter or cover-art track. Nothing is re-encoded, so a 100 MB clip takes seconds. Works from
file to file; the file is read and written in pieces, never held whole in memory.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av

from .uncleanable import MEDIA_REFUSAL, UncleanableFile

MEDIA_TRUNCATED = ("這段影片或錄音不完整（可能未錄完、未傳送完畢或已損壞），未能接受。"
                   "請把影片另存或重新錄製後再試。")
MEDIA_CODEC = ("這段影片或錄音的編碼格式未能處理。請用手機的相機或錄音程式重新錄製，"
               "或另存為 MP4 影片或 M4A 錄音後再試。")

# extension -> (FFmpeg demuxer, muxer, accepted video codecs, accepted audio codecs)
_ISO_AUDIO = {"aac", "alac", "mp3", "amr_nb", "amr_wb", "opus", "ac3", "eac3", "pcm_s16le",
              "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_f32le", "pcm_alaw", "pcm_mulaw"}
_ISO_VIDEO = {"h264", "hevc", "mpeg4", "h263", "av1", "vp9"}
_CONTAINERS = {
    "mp4": ("mov", "mp4", _ISO_VIDEO, _ISO_AUDIO),
    "mov": ("mov", "mov", _ISO_VIDEO | {"mjpeg", "prores"}, _ISO_AUDIO),
    "3gp": ("mov", "3gp", _ISO_VIDEO, _ISO_AUDIO),
    "m4a": ("mov", "ipod", set(), {"aac", "alac"}),
    "webm": ("matroska", "webm", {"vp8", "vp9", "av1"}, {"opus", "vorbis"}),
    "mp3": ("mp3", "mp3", set(), {"mp3"}),
    "wav": ("wav", "wav", set(), {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le",
                                  "pcm_alaw", "pcm_mulaw"}),
    "ogg": ("ogg", "ogg", set(), {"opus", "vorbis"}),
    "amr": ("amr", "amr", set(), {"amr_nb", "amr_wb"}),
}
MEDIA_EXTENSIONS = frozenset(_CONTAINERS)

# Written by the muxer itself, or describing the old file rather than the recording.
_CONTAINER_KEYS = {"major_brand", "minor_version", "compatible_brands", "duration"}
_LOCATION_KEY = re.compile(r"location|gps|xyz|6709|coordinate|latitude|longitude|geo", re.I)
_ISO6709 = re.compile(r"^\s*[+-]\d{1,3}(?:\.\d+)?[+-]\d{1,3}(?:\.\d+)?")
_CREATION_KEYS = ("com.apple.quicktime.creationdate", "creation_time", "date")
# Allowance for a stream's last packet ending before the duration the header announced.
_TRUNCATION_SLACK = 1.0  # seconds


@dataclass(frozen=True)
class MediaFile:
    """What a checked video or recording is: its real kind, length and (if kept) when made."""

    ext: str  # "m4a" for an MP4 that holds sound only
    family: str  # "video" or "audio"
    duration: float | None  # seconds
    captured_at: str | None  # "YYYY-MM-DD HH:MM:SS UTC"; None unless the metadata was kept


def clean_media_file(source: Path, target: Path, ext: str, *, keep_metadata: bool) -> MediaFile:
    """Check the recording at source by decoding it and write it to target without metadata.

    keep_metadata=False: nothing but the pictures and the sound (de-identification).
    keep_metadata=True: titles, dates and the like stay; every location goes.
    Refuses with UncleanableFile (a message for the resident) a file that is not what its
    first bytes claim, uses a codec outside the accepted kinds, or is incomplete; target may
    then be left half-written, for the caller to delete.
    """
    try:
        return _remuxed(source, target, ext, keep_metadata)
    except UncleanableFile as refusal:
        if str(refusal) == MEDIA_REFUSAL and _iso_boxes_cut_short(source):
            raise UncleanableFile(MEDIA_TRUNCATED) from refusal
        raise


def _remuxed(source: Path, target: Path, ext: str, keep_metadata: bool) -> MediaFile:
    demuxer, muxer, video_codecs, audio_codecs = _CONTAINERS[ext]
    with _opened(source, demuxer) as inp:
        kept = _streams_to_keep(inp, video_codecs, audio_codecs)
        family = "video" if any(s.type == "video" for s in kept) else "audio"
        real_ext = "m4a" if ext == "mp4" and family == "audio" else ext
        muxer = _CONTAINERS[real_ext][1]
        captured = capture_time(inp.metadata) if keep_metadata else None
        try:
            with av.open(str(target), "w", format=muxer,
                         container_options=_muxer_options(muxer, keep_metadata)) as out:
                if keep_metadata:
                    out.metadata.update(_without_location(inp.metadata, _CONTAINER_KEYS))
                ended = _remux(inp, kept, out, keep_metadata)
        except UncleanableFile:
            raise
        except (av.FFmpegError, ValueError, OSError) as error:
            raise UncleanableFile(MEDIA_TRUNCATED) from error
        duration = _checked_duration(inp, kept, ended)
    return MediaFile(real_ext, family, duration, captured)


@contextlib.contextmanager
def _opened(path: Path, demuxer: str) -> Iterator[av.container.InputContainer]:
    try:
        container = av.open(str(path), format=demuxer, metadata_errors="replace")
    except (av.FFmpegError, ValueError, OSError) as error:
        raise UncleanableFile(MEDIA_REFUSAL) from error
    with container:
        yield container


_ISO_TOP_LEVEL = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"meta",
                  b"pdin", b"moof", b"mfra", b"sidx", b"styp"}


def _iso_boxes_cut_short(path: Path) -> bool:
    """Whether a file FFmpeg cannot read is a real MP4/MOV that ends too soon: its
    top-level boxes are all known ones, and the last runs past the end or the movie header
    (moov, written last by most cameras) never came. A fake body is not called incomplete."""
    size = path.stat().st_size
    position, seen = 0, set()
    with path.open("rb") as file:
        if file.read(8)[4:8] != b"ftyp":
            return False
        while position + 8 <= size:
            file.seek(position)
            header = file.read(16)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if kind not in _ISO_TOP_LEVEL:
                return False
            if length == 1 and len(header) == 16:
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:  # runs to the end of the file
                length = size - position
            if length < 8:
                return False
            seen.add(kind)
            if position + length > size:
                return True
            position += length
    return b"mdat" in seen and b"moov" not in seen


def _streams_to_keep(inp, video_codecs: set[str], audio_codecs: set[str]) -> list:
    kept = []
    for stream in inp.streams:
        if stream.type not in ("video", "audio"):
            continue  # timed metadata (iPhone mebx, GoPro GPS), subtitles, timecode, chapters
        if stream.type == "video" and stream.disposition & av.stream.Disposition.attached_pic:
            continue  # cover art: a picture with its own metadata, not the recording
        accepted = video_codecs if stream.type == "video" else audio_codecs
        if stream.codec_context.codec.canonical_name not in accepted:
            raise UncleanableFile(MEDIA_CODEC)
        kept.append(stream)
    if not kept:
        raise UncleanableFile(MEDIA_REFUSAL)
    return kept


def _muxer_options(muxer: str, keep_metadata: bool) -> dict:
    if keep_metadata:
        return {}
    # bitexact: the muxer adds no encoder name, version or writing date of its own.
    options = {"fflags": "+bitexact"}
    if muxer == "mp3":
        options["id3v2_version"] = "0"  # no ID3 tag at all
    return options


def _remux(inp, kept: list, out, keep_metadata: bool) -> dict:
    """Copy the kept streams' packets into out, decoding until each stream gave one frame.
    Returns each input stream's end (seconds) as read."""
    targets = _output_streams(kept, out, keep_metadata)
    ended, decoded = dict.fromkeys(targets, 0.0), set()
    for packet in inp.demux(*kept):
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        if packet.is_corrupt:
            raise UncleanableFile(MEDIA_TRUNCATED)
        index = packet.stream.index
        if index not in decoded and any(True for _ in packet.decode()):
            decoded.add(index)
        if packet.pts is not None and packet.time_base is not None:
            end = (packet.pts + (packet.duration or 0)) * packet.time_base
            ended[index] = max(ended[index], float(end))
        if packet.dts is None:
            continue
        packet.stream = targets[index]
        out.mux(packet)
    for stream in kept:  # a decoder may hold its first frames back until it is flushed
        if stream.index not in decoded and any(True for _ in stream.codec_context.decode(None)):
            decoded.add(stream.index)
    if decoded != set(targets):
        raise UncleanableFile(MEDIA_REFUSAL)
    return ended


def _output_streams(kept: list, out, keep_metadata: bool) -> dict:
    """An output stream for each kept one (input index -> output stream), metadata cleared or,
    when kept, without location."""
    targets = {}
    for stream in kept:
        target = out.add_stream_from_template(stream)
        target.metadata.clear()
        if keep_metadata:
            target.metadata.update(_without_location(stream.metadata, set()))
        targets[stream.index] = target
    return targets


def _checked_duration(inp, kept: list, ended: dict) -> float | None:
    """The recording's length; UncleanableFile if it stops short of what its header says."""
    for stream in kept:
        if stream.frames and stream.duration and stream.time_base:
            announced = float(stream.duration * stream.time_base)
            if ended[stream.index] < announced - _TRUNCATION_SLACK:
                raise UncleanableFile(MEDIA_TRUNCATED)
    read = max(ended.values(), default=0.0)
    if inp.duration:
        announced = inp.duration / av.time_base
        if read < announced - max(_TRUNCATION_SLACK, announced * 0.02):
            raise UncleanableFile(MEDIA_TRUNCATED)
    return round(read, 3) if read > 0 else None


def _without_location(metadata: dict, also_drop: set[str]) -> dict:
    return {key: value for key, value in metadata.items()
            if key not in also_drop and not _LOCATION_KEY.search(key)
            and not _ISO6709.match(value or "")}


def capture_time(metadata: dict) -> str | None:
    """When the recording was made, in UTC, from its container's metadata; None if unknown."""
    for key in _CREATION_KEYS:
        value = (metadata.get(key) or "").strip()
        if not value:
            continue
        value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value.replace("Z", "+00:00"))
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(value)
            if moment.year > 1970:
                moment = moment.astimezone(UTC) if moment.tzinfo else moment
                return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    return None
