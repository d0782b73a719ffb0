"""Evidence files: what kind a file is, judged by its bytes, never by its name or declared type;
and where its bytes are while the server holds it. A recording is never held whole in memory: it
is cleaned from the upload's temporary file into another (anonymous files, which no other
process can open and which vanish when closed), then sealed into the draft in chunks. Photos and
PDFs, which Pillow and qpdf clean in memory, are bounded at MAX_IN_MEMORY_SIZE each."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import BinaryIO

from .privacy.media import clean_media_file
from .privacy.pdfs import clean_pdf, strip_pdf_gps
from .privacy.photos import clean_image, photo_capture_time, strip_gps

MB = 1024 * 1024
CHUNK = 64 * 1024

# extension -> (family, MIME type)
KINDS = {
    "jpg": ("image", "image/jpeg"),
    "png": ("image", "image/png"),
    "webp": ("image", "image/webp"),
    "heic": ("image", "image/heic"),
    "mp4": ("video", "video/mp4"),
    "mov": ("video", "video/quicktime"),
    "3gp": ("video", "video/3gpp"),
    "webm": ("video", "video/webm"),
    "mp3": ("audio", "audio/mpeg"),
    "m4a": ("audio", "audio/mp4"),
    "wav": ("audio", "audio/wav"),
    "amr": ("audio", "audio/amr"),
    "ogg": ("audio", "audio/ogg"),
    "pdf": ("document", "application/pdf"),
}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
M4A_BRANDS = {b"M4A ", b"M4B "}
QUICKTIME_BRANDS = {b"qt  "}
THREE_GP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gg6", b"3g2a", b"3g2b", b"3g2c"}
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
              b"dash", b"mmp4", b"MSNV", b"XAVC"} | THREE_GP_BRANDS
# Pixels decoded per photo and per complaint: a 9000 × 9000 PNG is a few hundred kilobytes
# but a gigabyte once decoded.
MAX_IMAGE_PIXELS = 40_000_000
MAX_TOTAL_PIXELS = 150_000_000
# Photos and PDFs are cleaned in memory (Pillow, qpdf), so each is bounded well below the limit
# for a recording: a phone's photo is 2-12 MB, a scanned letter a few MB.
MAX_IN_MEMORY_SIZE = 20 * MB

FAMILIES = {"image": "相片", "video": "影片", "audio": "錄音", "document": "PDF 文件"}
TEXTS = {  # how a file is described to the resident
    "minutes": "{minutes} 分 {seconds:02d} 秒",
    "seconds": "{seconds} 秒",
}


class InMemory:
    """A photo or PDF, cleaned in memory (at most MAX_IN_MEMORY_SIZE)."""

    def __init__(self, data: bytes):
        self.data = data

    def chunks(self) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])

    def close(self) -> None:
        self.data = b""


class OpenFile:
    """A cleaned recording in an anonymous temporary file, while the request lasts."""

    def __init__(self, file: BinaryIO):
        self.file = file

    def chunks(self) -> Iterator[bytes]:
        self.file.seek(0)
        while block := self.file.read(CHUNK):
            yield block

    def close(self) -> None:
        self.file.close()


@dataclass(frozen=True)
class Evidence:
    """One uploaded file after checking: where its bytes are, and what the office needs to
    know of it."""

    ext: str
    # Of the file as the resident sent it; when de-identified, of the file as cleaned: the
    # original's hash would match a copy of it the resident shared elsewhere under their name.
    sha256: str
    size: int = 0  # bytes, of the file as the office receives it
    captured_at: str | None = None  # from the file's metadata; None when de-identified
    gps_removed: bool = False
    deidentified: bool = False  # every kind of metadata removed, file rebuilt
    duration: float | None = None  # seconds, for video and audio
    # InMemory, OpenFile or a draft's sealed file: anything with chunks(); None in a record.
    source: object = None

    @property
    def family(self) -> str:
        return KINDS[self.ext][0]

    @property
    def mime_type(self) -> str:
        return KINDS[self.ext][1]

    @property
    def kind_label(self) -> str:
        return FAMILIES[self.family]

    @property
    def size_text(self) -> str:
        return file_size(self.size)

    @property
    def duration_text(self) -> str:
        return duration_text(self.duration) if self.duration else ""

    def chunks(self) -> Iterator[bytes]:
        if self.source is None:
            raise ValueError("this evidence is a description only")
        return self.source.chunks()

    def read_bytes(self) -> bytes:
        """The whole file: only for photos and PDFs, which are small."""
        return b"".join(self.chunks())

    def record(self) -> dict:
        """What describes the file, JSON-ready (without its bytes)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source"}


def close_all(evidence: Iterable[Evidence]) -> None:
    """Let go of the files' bytes: an anonymous temporary file vanishes when closed."""
    for item in evidence:
        close = getattr(item.source, "close", None)
        if close:
            close()


# Opening bytes -> the kind they claim. A claim only: prepare() parses the whole file.
PREFIXES = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"%PDF-", "pdf"),
            (b"#!AMR\n", "amr"), (b"#!AMR-WB\n", "amr"), (b"OggS", "ogg"), (b"ID3", "mp3"))
RIFF_KINDS = {b"WEBP": "webp", b"WAVE": "wav"}


def sniff(data: bytes) -> str | None:
    """The extension of an accepted kind that these bytes claim to be, or None."""
    head = data[:64]
    for prefix, ext in PREFIXES:
        if head.startswith(prefix):
            return ext
    if head[:4] == b"RIFF":
        return RIFF_KINDS.get(head[8:12])
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head:  # EBML, DocType webm
        return "webm"
    if head[4:8] == b"ftyp":
        return iso_media_kind(data)
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free") and len(data) > 8:
        return "mov"
    if len(head) > 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2:
        return "mp3"  # an MPEG audio frame sync (layer III)
    return None


def iso_media_kind(data: bytes) -> str | None:
    size = int.from_bytes(data[0:4], "big")
    box = data[8 : min(max(size, 16), 64)]
    brands = {box[0:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
    major = box[0:4]
    if major in HEIF_BRANDS or (brands & HEIF_BRANDS and not brands & MP4_BRANDS):
        return "heic"
    if major in M4A_BRANDS:
        return "m4a"
    if major in QUICKTIME_BRANDS:
        return "mov"
    if major in THREE_GP_BRANDS:
        return "3gp"
    if major in MP4_BRANDS or brands & MP4_BRANDS:
        return "mp4"
    return None


def declared_matches(declared: str, ext: str) -> bool:
    """A browser may say nothing useful (octet-stream), but it must not say something else.
    Video and audio count as one: phones call a voice note video/3gpp or an MP4 audio/mp4."""
    declared = (declared or "").lower()
    if declared in ("", "application/octet-stream"):
        return True
    actual = KINDS[ext][1]
    if ext == "pdf":
        return declared == actual
    if ext == "ogg" and declared == "application/ogg":
        return True
    media = {"audio", "video"}
    major, actual_major = declared.split("/")[0], actual.split("/")[0]
    return major == actual_major or {major, actual_major} <= media


Scratch = Callable[[], BinaryIO]  # makes an anonymous temporary file, e.g. TemporaryFile


def fd_path(file: BinaryIO) -> Path:
    """A path to an open file, anonymous or not, for FFmpeg to open while it stays open."""
    return Path(f"/proc/self/fd/{file.fileno()}")


def prepare(upload: BinaryIO, ext: str, anonymize: bool,
            scratch: Scratch = tempfile.TemporaryFile) -> Evidence:
    """Record what proves the original (its hash; its capture time unless de-identified), then
    strip what must go: the location from every file; with de-identification all metadata.
    The upload is read in chunks; a recording is cleaned into a file made by scratch().
    Raises UncleanableFile with a message for the resident."""
    digest, size = hashed(upload)
    item = Evidence(ext=ext, sha256=digest, size=size)
    if item.family in ("video", "audio"):
        return _cleaned_media(item, upload, scratch, keep_metadata=not anonymize)
    data = read_all(upload)
    if item.family == "image":
        captured = None if anonymize else photo_capture_time(data)
        item = _in_memory(item, strip_gps(data), gps_removed=True, captured_at=captured)
    elif not anonymize:  # (both PDF cleaners refuse an active or encrypted PDF first)
        item = _in_memory(item, strip_pdf_gps(data), gps_removed=True)
    else:
        item = _in_memory(item, data)
    return deidentify_file(item, scratch) if anonymize else item


def deidentify_file(item: Evidence, scratch: Scratch = tempfile.TemporaryFile) -> Evidence:
    """The file with every kind of metadata removed (a photo rebuilt from its pixels, a PDF
    rebuilt without metadata, a recording remuxed without it) and no capture time."""
    if item.deidentified:
        return item
    if item.family in ("video", "audio"):
        with scratch() as plain:  # FFmpeg reads a file: the draft's sealed copy, opened
            for chunk in item.chunks():
                plain.write(chunk)
            return _cleaned_media(item, plain, scratch, keep_metadata=False)
    if item.family == "image":
        data, ext = clean_image(item.read_bytes())
    else:
        data, ext = clean_pdf(item.read_bytes()), item.ext
    return _in_memory(item, data, ext=ext, gps_removed=True, deidentified=True, captured_at=None,
                      sha256=hashlib.sha256(data).hexdigest())


def _in_memory(item: Evidence, data: bytes, **changes) -> Evidence:
    return replace(item, source=InMemory(data), size=len(data), **changes)


def _cleaned_media(item: Evidence, upload: BinaryIO, scratch: Scratch,
                   keep_metadata: bool) -> Evidence:
    """Remuxed from the upload's file into an anonymous one (file to file, never in memory)."""
    try:
        source = fd_path(upload)
    except (AttributeError, OSError, ValueError):  # in memory (io.BytesIO): a copy on disk
        with scratch() as copy:
            copy.writelines(_blocks(upload))
            return _cleaned_media(item, copy, scratch, keep_metadata)
    upload.flush()  # what was written through this object, visible to FFmpeg
    target = scratch()
    try:
        media = clean_media_file(source, fd_path(target), item.ext, keep_metadata=keep_metadata)
        digest, size = hashed(target) if not keep_metadata else (item.sha256, target.seek(0, 2))
    except BaseException:
        target.close()
        raise
    return replace(item, source=OpenFile(target), size=size, ext=media.ext, sha256=digest,
                   captured_at=media.captured_at, duration=media.duration, gps_removed=True,
                   deidentified=not keep_metadata)


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    stream.seek(0)
    while block := stream.read(CHUNK):
        yield block


def hashed(stream: BinaryIO) -> tuple[str, int]:
    """(SHA-256, size) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    for block in _blocks(stream):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def read_all(stream: BinaryIO) -> bytes:
    stream.seek(0)
    return stream.read()


def megabytes(size: int) -> str:
    return f"{size / MB:g} MB"


def file_size(size: int) -> str:
    """A file's size as residents read it: 63.2 MB, 480 KB."""
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def duration_text(seconds: float) -> str:
    """3 分 05 秒, 45 秒."""
    whole = max(1, round(seconds))
    if whole < 60:
        return TEXTS["seconds"].format(seconds=whole)
    return TEXTS["minutes"].format(minutes=whole // 60, seconds=whole % 60)
