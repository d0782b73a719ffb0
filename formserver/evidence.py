"""Evidence files: what kind a file is, judged by its bytes, never by its name or declared type."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from .privacy.media import clean_media_file
from .privacy.pdfs import clean_pdf, strip_pdf_gps
from .privacy.photos import clean_image, photo_capture_time, photo_pixels, strip_gps
from .privacy.uncleanable import UncleanableFile, sha256_hex
from .sanitize import one_line

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


@dataclass(frozen=True)
class Evidence:
    """One uploaded file after checking: bytes plus what the office needs to know of it."""

    data: bytes
    ext: str
    sha256: str  # of the file as the resident sent it, before any cleaning
    captured_at: str | None = None  # from the file's metadata; None when de-identified
    gps_removed: bool = False
    deidentified: bool = False  # every kind of metadata removed, file rebuilt
    duration: float | None = None  # seconds, for video and audio

    @property
    def family(self) -> str:
        return KINDS[self.ext][0]

    @property
    def mime_type(self) -> str:
        return KINDS[self.ext][1]


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


def accepted_list() -> str:
    return ("相片（JPG、PNG、WebP、HEIC）、影片（MP4、MOV、3GP、WebM）、"
            "錄音（M4A、MP3、WAV、AMR、OGG／Opus）或 PDF 文件")


class EvidenceError(ValueError):
    """A file the server will not take; the message is for the resident."""


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


def prepare(data: bytes, ext: str, anonymize: bool) -> Evidence:
    """Record what proves the original (its hash; its capture time unless de-identified), then
    strip what must go: the location from every file; with de-identification all metadata.
    Raises UncleanableFile with a message for the resident."""
    family = KINDS[ext][0]
    item = Evidence(data=data, ext=ext, sha256=sha256_hex(data))
    if family in ("video", "audio"):
        return _prepared_media(item, keep_metadata=not anonymize)
    if family == "image":
        captured = None if anonymize else photo_capture_time(data)
        item = replace(item, data=strip_gps(data), gps_removed=True, captured_at=captured)
    elif not anonymize:  # (both PDF cleaners refuse an active or encrypted PDF first)
        item = replace(item, data=strip_pdf_gps(data), gps_removed=True)
    return deidentify_file(item) if anonymize else item


def deidentify_file(item: Evidence) -> Evidence:
    """The file with every kind of metadata removed (a photo rebuilt from its pixels, a PDF
    rebuilt without metadata, a recording remuxed without it) and no capture time."""
    if item.deidentified:
        return item
    if item.family in ("video", "audio"):
        return _prepared_media(item, keep_metadata=False)
    if item.family == "image":
        data, ext = clean_image(item.data)
    else:
        data, ext = clean_pdf(item.data), item.ext
    return replace(item, data=data, ext=ext, gps_removed=True, deidentified=True,
                   captured_at=None)


def _prepared_media(item: Evidence, keep_metadata: bool) -> Evidence:
    # The cleaner works from file to file (uploads of 100 MB will be streamed to disk).
    with tempfile.TemporaryDirectory(prefix="evidence-") as folder:
        source, target = Path(folder) / f"original.{item.ext}", Path(folder) / "cleaned"
        source.write_bytes(item.data)
        media = clean_media_file(source, target, item.ext, keep_metadata=keep_metadata)
        data = target.read_bytes()
    return replace(item, data=data, ext=media.ext, captured_at=media.captured_at,
                   duration=media.duration, gps_removed=True, deidentified=not keep_metadata)


def read_uploads(uploads, *, max_files: int, max_file_size: int, max_total_size: int,
                 anonymize: bool, max_image_pixels: int = MAX_IMAGE_PIXELS,
                 max_total_pixels: int = MAX_TOTAL_PIXELS) -> list[Evidence]:
    """Check and prepare the uploaded files; raise EvidenceError with a message for the
    resident at the first file the server will not take. Every file is checked (size, kind,
    pixels) before any is decoded."""
    chosen = [upload for upload in uploads if upload and upload.filename]
    if len(chosen) > max_files:
        raise EvidenceError(f"最多可以附上 {max_files} 個檔案，您選了 {len(chosen)} 個。")
    checked, total, pixels = [], 0, 0
    for upload in chosen:
        label, data = _read_within(upload, max_file_size)
        total += len(data)
        if total > max_total_size:
            raise EvidenceError(f"所有檔案合共最多 {megabytes(max_total_size)}。"
                                "請減少檔案數目或縮小檔案後再試。")
        ext = sniff(data)
        if ext is None or not declared_matches(upload.mimetype, ext):
            raise EvidenceError(f"檔案{label}不是可接受的格式。可以附上的有：{accepted_list()}。")
        if KINDS[ext][0] == "image":
            pixels += _pixels_within(data, label, max_image_pixels)
            if pixels > max_total_pixels:
                raise EvidenceError(f"所有相片合共最多 {megapixels(max_total_pixels)}，"
                                    f"加上相片{label}就超過了。請減少相片數目，"
                                    "或把相片縮小後再試。")
        checked.append((label, data, ext))
    evidence = []
    for label, data, ext in checked:
        try:
            evidence.append(prepare(data, ext, anonymize))
        except UncleanableFile as error:
            raise EvidenceError(f"檔案{label}：{error}") from None
    return evidence


def _read_within(upload, most: int) -> tuple[str, bytes]:
    """The file's label for messages and its bytes; EvidenceError if empty or over the limit."""
    label = f"「{one_line(upload.filename)[:60]}」"
    data = upload.stream.read(most + 1)
    if not data:
        raise EvidenceError(f"檔案{label}是空的，請重新選擇。")
    if len(data) > most:
        raise EvidenceError(f"檔案{label}太大：每個檔案最多 {megabytes(most)}。"
                            "請縮小相片或剪短影片後再試。")
    return label, data


def _pixels_within(data: bytes, label: str, most: int) -> int:
    try:
        pixels = photo_pixels(data)
    except UncleanableFile as error:
        raise EvidenceError(f"檔案{label}：{error}") from None
    if pixels > most:
        raise EvidenceError(f"相片{label}太大：有 {megapixels(pixels)}，每張相片最多 "
                            f"{megapixels(most)}。請把相片縮小（例如用手機分享時選「中」或"
                            "「細」尺寸）或截圖後再試。")
    return pixels


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f} 百萬像素"
