"""Taking the request's files: each checked (count, size, kind by content, pixels) before any
is decoded, then prepared (evidence.prepare). Uploads are written by werkzeug to anonymous
temporary files in DRAFT_DIR (UploadRequest): on disk, never named, gone when closed, which
read_uploads does as soon as each file is cleaned."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import ServiceUnavailable

from .config import SMALL_REQUEST
from .evidence import (
    KINDS,
    MAX_IMAGE_PIXELS,
    MAX_IN_MEMORY_SIZE,
    MAX_TOTAL_PIXELS,
    Evidence,
    Scratch,
    close_all,
    declared_matches,
    megabytes,
    prepare,
    read_all,
    sniff,
)
from .privacy.photos import photo_pixels
from .privacy.uncleanable import UncleanableFile
from .sanitize import one_line

log = logging.getLogger(__name__)

MESSAGES = {  # what the resident reads when a file is refused
    "too_many": "最多可以附上 {most} 個檔案，您選了 {count} 個。",
    "total": "所有檔案合共最多 {most}。請減少檔案數目或縮小檔案後再試。",
    "empty": "檔案{label}是空的，請重新選擇。",
    "too_large": "檔案{label}太大：每個檔案最多 {most}。請縮小相片或剪短影片後再試。",
    "in_memory": ("檔案{label}太大：相片和 PDF 文件每個最多 {most}。請縮小相片，"
                  "或把文件分成幾個檔案後再試。"),
    "kind": "檔案{label}不是可接受的格式。可以附上的有：{kinds}。",
    "kinds": ("相片（JPG、PNG、WebP、HEIC）、影片（MP4、MOV、3GP、WebM）、"
              "錄音（M4A、MP3、WAV、AMR、OGG／Opus）或 PDF 文件"),
    "pixels": ("相片{label}太大：有 {pixels}，每張相片最多 {most}。請把相片縮小（例如用手機分享時"
               "選「中」或「細」尺寸）或截圖後再試。"),
    "pixels_total": ("所有相片合共最多 {most}，加上相片{label}就超過了。請減少相片數目，"
                     "或把相片縮小後再試。"),
    "uncleanable": "檔案{label}：{reason}",
}


class EvidenceError(ValueError):
    """A file the server will not take; the message is for the resident."""


def accepted_list() -> str:
    return MESSAGES["kinds"]


class UploadRequest(Request):
    """Flask's request, with every uploaded file written to an anonymous temporary file in
    DRAFT_DIR (werkzeug's default keeps small ones in memory and the rest in the system's
    temporary folder, which may be memory too): on the drafts' disk, readable by no other
    process, and gone when closed."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None) -> BinaryIO:
        file = scratch_files()()
        self.__dict__.setdefault("upload_files", []).append(file)
        return file

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except OSError as error:  # the disk filled while an upload was written: nothing kept
            log.error("could not receive an upload: %s", error.strerror)
            self.close()
            raise ServiceUnavailable() from None

    def close(self) -> None:
        """Every upload's file closed (so gone), the one a failure left half-written too."""
        super().close()
        for file in self.__dict__.pop("upload_files", []):
            file.close()


def takes_files(view):
    """Mark a view as one that takes uploads: every other request is held to SMALL_REQUEST."""
    view.takes_files = True  # (kept through functools.wraps, e.g. the rate limiter's)
    return view


def takes_uploads() -> bool:
    """Is the request's view one that takes files (the complaint form)?"""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "takes_files", False)


def init_app(app: Flask) -> None:
    """Uploads into anonymous files; the small limit for every request that takes none.
    Call before anything reads a request's form (CSRF does, in its own before_request)."""
    app.request_class = UploadRequest

    @app.before_request
    def limit_request_size():
        if not takes_uploads():
            request.max_content_length = min(app.config["MAX_CONTENT_LENGTH"], SMALL_REQUEST)


def scratch_files() -> Scratch:
    """Anonymous temporary files beside the drafts (uploads, cleaned recordings); OSError
    when the folder cannot take them."""
    folder = Path(current_app.config["DRAFT_DIR"])

    def make() -> BinaryIO:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return tempfile.TemporaryFile(dir=folder)

    return make


def size_of(stream: BinaryIO) -> int:
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


def head_of(stream: BinaryIO) -> bytes:
    stream.seek(0)
    head = stream.read(64)
    stream.seek(0)
    return head


def read_uploads(uploads, *, max_files: int, max_file_size: int, max_total_size: int,
                 anonymize: bool, scratch: Scratch = tempfile.TemporaryFile,
                 max_image_pixels: int = MAX_IMAGE_PIXELS,
                 max_total_pixels: int = MAX_TOTAL_PIXELS) -> list[Evidence]:
    """Check and prepare the uploaded files; raise EvidenceError with a message for the
    resident at the first file the server will not take. Every file is checked (size, kind,
    pixels) before any is decoded; none is read whole unless it is a photo or a PDF. Each
    upload is closed once prepared, so its temporary file goes at once; the caller closes
    the evidence (close_all) once it is sealed into the draft."""
    chosen = [upload for upload in uploads if upload and upload.filename]
    if len(chosen) > max_files:
        raise EvidenceError(MESSAGES["too_many"].format(most=max_files, count=len(chosen)))
    checked, total, pixels = [], 0, 0
    for upload in chosen:
        label = f"「{one_line(upload.filename)[:60]}」"
        size = size_of(upload.stream)
        total += size
        ext = _checked(upload, label, size, max_file_size)
        if total > max_total_size:
            raise EvidenceError(MESSAGES["total"].format(most=megabytes(max_total_size)))
        if KINDS[ext][0] == "image":
            pixels += _pixels_within(read_all(upload.stream), label, max_image_pixels)
            if pixels > max_total_pixels:
                raise EvidenceError(MESSAGES["pixels_total"].format(
                    most=megapixels(max_total_pixels), label=label))
        checked.append((label, upload, ext))
    evidence = []
    try:
        for label, upload, ext in checked:
            try:
                evidence.append(prepare(upload.stream, ext, anonymize, scratch))
            except UncleanableFile as error:
                raise EvidenceError(MESSAGES["uncleanable"].format(label=label, reason=error)
                                    ) from None
            finally:
                upload.close()
    except BaseException:
        close_all(evidence)
        raise
    return evidence


def _checked(upload, label: str, size: int, most: int) -> str:
    """The file's kind; EvidenceError if it is empty, too large, or not an accepted kind."""
    if not size:
        raise EvidenceError(MESSAGES["empty"].format(label=label))
    if size > most:
        raise EvidenceError(MESSAGES["too_large"].format(label=label, most=megabytes(most)))
    ext = sniff(head_of(upload.stream))
    if ext is None or not declared_matches(upload.mimetype, ext):
        raise EvidenceError(MESSAGES["kind"].format(label=label, kinds=accepted_list()))
    if KINDS[ext][0] in ("image", "document") and size > MAX_IN_MEMORY_SIZE:
        raise EvidenceError(MESSAGES["in_memory"].format(label=label,
                                                         most=megabytes(MAX_IN_MEMORY_SIZE)))
    return ext


def _pixels_within(data: bytes, label: str, most: int) -> int:
    try:
        pixels = photo_pixels(data)
    except UncleanableFile as error:
        raise EvidenceError(MESSAGES["uncleanable"].format(label=label, reason=error)) from None
    if pixels > most:
        raise EvidenceError(MESSAGES["pixels"].format(label=label, pixels=megapixels(pixels),
                                                      most=megapixels(most)))
    return pixels


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f} 百萬像素"
