"""Evidence files: what kind a file is, judged by its bytes, never by its name or declared type."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .privacy.media import video_capture_time
from .privacy.pdfs import clean_pdf, pdf_is_passive
from .privacy.photos import clean_image, photo_capture_time, strip_gps
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
    "mp3": ("audio", "audio/mpeg"),
    "m4a": ("audio", "audio/mp4"),
    "wav": ("audio", "audio/wav"),
    "amr": ("audio", "audio/amr"),
    "pdf": ("document", "application/pdf"),
}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
M4A_BRANDS = {b"M4A ", b"M4B "}
QUICKTIME_BRANDS = {b"qt  "}
MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
              b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"mmp4", b"MSNV", b"XAVC"}


@dataclass(frozen=True)
class Evidence:
    """One uploaded file after checking: bytes plus what the office needs to know of it."""

    data: bytes
    ext: str
    sha256: str  # of the file as the resident sent it, before any cleaning
    captured_at: str | None = None
    gps_removed: bool = False
    deidentified: bool = False  # every kind of metadata removed, file rebuilt

    @property
    def family(self) -> str:
        return KINDS[self.ext][0]

    @property
    def mime_type(self) -> str:
        return KINDS[self.ext][1]


def sniff(data: bytes) -> str | None:
    """The extension of an accepted kind that these bytes are, or None."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "amr"
    if head[4:8] == b"ftyp":
        return iso_media_kind(data)
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free") and len(data) > 8:
        return "mov"
    if head.startswith(b"ID3") or (len(head) > 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        return "mp3"  # an ID3 tag, or an MPEG audio frame sync (layer III)
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
    if major in MP4_BRANDS or brands & MP4_BRANDS:
        return "mp4"
    return None


def accepted_list() -> str:
    return "相片（JPG、PNG、WebP、HEIC）、影片（MP4、MOV）、錄音（MP3、M4A、WAV、AMR）或 PDF 文件"


class EvidenceError(ValueError):
    """A file the server will not take; the message is for the resident."""


def declared_matches(declared: str, ext: str) -> bool:
    """A browser may say nothing useful (octet-stream), but it must not say something else."""
    declared = (declared or "").lower()
    if declared in ("", "application/octet-stream"):
        return True
    actual = KINDS[ext][1]
    if ext == "pdf":
        return declared == actual
    return declared.split("/")[0] == actual.split("/")[0]


def prepare(data: bytes, ext: str, anonymize: bool) -> Evidence:
    """Record what proves the original (hash, capture time), then strip what must go:
    GPS from every photo; with de-identification all metadata of photos and PDFs."""
    family = KINDS[ext][0]
    captured = (photo_capture_time(data) if family == "image"
                else video_capture_time(data) if family == "video" else None)
    item = Evidence(data=data, ext=ext, sha256=sha256_hex(data), captured_at=captured)
    if family == "image":
        item = replace(item, data=strip_gps(data), gps_removed=True)
    return deidentify_file(item) if anonymize else item


def deidentify_file(item: Evidence) -> Evidence:
    """Rebuild a photo from its pixels, drop a PDF's metadata; video and audio stay as they are
    (the server ships nothing that can clean them, and the resident is told so)."""
    if item.deidentified or item.family not in ("image", "document"):
        return item
    if item.family == "image":
        data, ext = clean_image(item.data)
    else:
        data, ext = clean_pdf(item.data), item.ext
    return replace(item, data=data, ext=ext, gps_removed=item.family == "image",
                   deidentified=True)


def read_uploads(uploads, *, max_files: int, max_file_size: int, max_total_size: int,
                 anonymize: bool) -> list[Evidence]:
    """Check and prepare the uploaded files; raise EvidenceError with a message for the
    resident at the first file the server will not take."""
    chosen = [upload for upload in uploads if upload and upload.filename]
    if len(chosen) > max_files:
        raise EvidenceError(f"最多可以附上 {max_files} 個檔案，您選了 {len(chosen)} 個。")
    evidence, total = [], 0
    for upload in chosen:
        label = f"「{one_line(upload.filename)[:60]}」"
        data = upload.stream.read(max_file_size + 1)
        if not data:
            raise EvidenceError(f"檔案{label}是空的，請重新選擇。")
        if len(data) > max_file_size:
            raise EvidenceError(f"檔案{label}太大：每個檔案最多 {megabytes(max_file_size)}。"
                                "請縮小相片或剪短影片後再試。")
        total += len(data)
        if total > max_total_size:
            raise EvidenceError(f"所有檔案合共最多 {megabytes(max_total_size)}。"
                                "請減少檔案數目或縮小檔案後再試。")
        ext = sniff(data)
        if ext is None or not declared_matches(upload.mimetype, ext):
            raise EvidenceError(f"檔案{label}不是可接受的格式。可以附上的有：{accepted_list()}。")
        if ext == "pdf" and not pdf_is_passive(data):
            raise EvidenceError(f"檔案{label}：這份 PDF 無法讀取，或含有程式碼、附件等內容，"
                                "未能接受。請把它另存或列印成一般的 PDF，或改用相片。")
        try:
            evidence.append(prepare(data, ext, anonymize))
        except UncleanableFile as error:
            raise EvidenceError(f"檔案{label}：{error}") from None
    return evidence


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
