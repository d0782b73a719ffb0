"""Photos: the location removed in place, or the whole file rebuilt from its pixels."""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from datetime import datetime

import pillow_heif
from PIL import Image, ImageCms, ImageOps

from .uncleanable import UncleanableFile

pillow_heif.register_heif_opener()

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132


@contextlib.contextmanager
def _opened_image(data: bytes) -> Iterator[Image.Image]:
    """The image in data, or UncleanableFile; decompression bombs count as uncleanable."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Exception as error:
            raise UncleanableFile() from error
        with image:
            # Also checked here because catch_warnings is process-wide, not per thread.
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and image.width * image.height > limit:
                raise UncleanableFile()
            yield image


def photo_capture_time(data: bytes) -> str | None:
    """When the photo was taken, "YYYY-MM-DD HH:MM:SS", from its EXIF; None if unknown."""
    try:
        with _opened_image(data) as image:
            exif = image.getexif()
            taken = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except Exception:
        return None
    if isinstance(taken, bytes):
        taken = taken.decode("ascii", "replace")
    if not isinstance(taken, str):
        return None
    taken = taken.strip("\x00 ")
    for layout in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(taken, layout).strftime("%Y-%m-%d %H:%M:%S")
    return None


def strip_gps(data: bytes) -> bytes:
    """The photo without its location; pixels and all other metadata (orientation too) kept as is.

    JPEG, PNG and WebP are edited in place; HEIC has its EXIF overwritten where it lies. XMP that
    mentions GPS is dropped, and so is everything that JPEG carries after the end of the image
    (motion-photo videos, extra MPF images with their own EXIF). Raises UncleanableFile.
    """
    with _opened_image(data) as image:
        image_format = image.format
        xmp = image.info.get("xmp")
    strippers = {
        "JPEG": _jpeg_without_gps,
        "MPO": _jpeg_without_gps,
        "PNG": _png_without_gps,
        "WEBP": _webp_without_gps,
        "HEIF": lambda data: _heif_without_gps(data, xmp),
    }
    if image_format not in strippers:
        raise UncleanableFile()
    try:
        cleaned = strippers[image_format](data)
    except (ValueError, IndexError, KeyError, struct.error) as error:
        raise UncleanableFile() from error
    with _opened_image(cleaned) as image:
        try:
            exif = image.getexif()
            still_located = bool(exif.get_ifd(_GPS_IFD)) or _GPS_IFD in exif
        except Exception as error:
            raise UncleanableFile() from error
        if still_located or _mentions_gps(image.info.get("xmp")):
            raise UncleanableFile()
    return cleaned


def _mentions_gps(metadata: bytes | str | None) -> bool:
    if isinstance(metadata, str):
        metadata = metadata.encode("utf-8", "replace")
    return bool(metadata) and b"gps" in metadata.lower()


# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ... IFD).
_TIFF_TYPE_SIZES = dict(enumerate((1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4), start=1))


def _remove_gps_ifd(tiff: bytearray, base: int) -> None:
    """Blank the GPS IFD of the TIFF structure (EXIF) starting at tiff[base] and unlink it.

    Works in place and keeps every other byte where it was, so all other offsets stay valid.
    """
    order = {b"II": "<", b"MM": ">"}[bytes(tiff[base : base + 2])]
    magic, ifd = struct.unpack_from(order + "HI", tiff, base + 2)
    if magic != 42:
        raise ValueError("not a TIFF header")
    seen = set()
    while ifd and ifd not in seen:  # IFD0, then the thumbnail's IFD1
        seen.add(ifd)
        position = base + ifd
        (count,) = struct.unpack_from(order + "H", tiff, position)
        end = position + 2 + 12 * count + 4
        (next_ifd,) = struct.unpack_from(order + "I", tiff, end - 4)
        for index in range(count):
            entry = position + 2 + 12 * index
            tag, _, _, gps_offset = struct.unpack_from(order + "HHII", tiff, entry)
            if tag == _GPS_IFD:
                _blank_ifd(tiff, base, gps_offset, order)
                # Close the gap: later entries and the next-IFD offset move up one slot.
                tiff[entry : end - 12] = tiff[entry + 12 : end]
                tiff[end - 12 : end] = bytes(12)
                struct.pack_into(order + "H", tiff, position, count - 1)
                break
        ifd = next_ifd


def _blank_ifd(tiff: bytearray, base: int, offset: int, order: str) -> None:
    position = base + offset
    (count,) = struct.unpack_from(order + "H", tiff, position)
    end = position + 2 + 12 * count + 4
    if end > len(tiff):
        raise ValueError("GPS IFD out of bounds")
    for index in range(count):
        _, kind, number, value = struct.unpack_from(order + "HHII", tiff, position + 2 + 12 * index)
        size = _TIFF_TYPE_SIZES[kind] * number
        if size > 4:  # the value lies outside the entry
            if base + value + size > len(tiff):
                raise ValueError("GPS value out of bounds")
            tiff[base + value : base + value + size] = bytes(size)
    tiff[position:end] = bytes(end - position)


_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"


def _jpeg_without_gps(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    cleaned = bytearray(b"\xff\xd8")
    position = 2
    while True:
        if data[position] != 0xFF:
            raise ValueError("lost track of the JPEG markers")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker == 0xD9:  # end of image: what follows is dropped
            return bytes(cleaned + b"\xff\xd9")
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            cleaned += data[position : position + 2]
            position += 2
        else:
            (length,) = struct.unpack_from(">H", data, position + 2)
            end = position + 2 + length
            if end > len(data):
                raise ValueError("truncated JPEG segment")
            cleaned += _jpeg_segment_without_gps(marker, data[position:end])
            position = end
            if marker == 0xDA:  # start of scan: copy the compressed data up to the next marker
                scan_end = _end_of_scan(data, position)
                cleaned += data[position:scan_end]
                position = scan_end


def _jpeg_segment_without_gps(marker: int, segment: bytes) -> bytes:
    payload = segment[4:]
    if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
        edited = bytearray(segment)
        _remove_gps_ifd(edited, 10)
        return bytes(edited)
    if marker == 0xE1 and payload.startswith(_XMP_HEADER) and _mentions_gps(payload):
        return b""
    # Extended XMP is split in pieces that cannot be searched one by one; it holds depth maps
    # and the like, nothing needed to show the photo.
    if marker == 0xE1 and payload.startswith(_EXTENDED_XMP_HEADER):
        return b""
    if marker == 0xE2 and payload.startswith(b"MPF\x00"):  # index of the images dropped after EOI
        return b""
    return segment


def _end_of_scan(data: bytes, position: int) -> int:
    while True:
        position = data.index(b"\xff", position)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte or restart marker
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_without_gps(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    cleaned = bytearray(_PNG_SIGNATURE)
    position = len(_PNG_SIGNATURE)
    chunk_type = b""
    while chunk_type != b"IEND":
        length, chunk_type = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        body = data[position + 8 : end - 4]
        if chunk_type == b"eXIf":
            edited = bytearray(body)
            _remove_gps_ifd(edited, 6 if edited.startswith(b"Exif\x00\x00") else 0)
            cleaned += data[position : position + 8] + edited
            cleaned += struct.pack(">I", _png_crc(chunk_type, edited))
        elif not _png_text_may_locate(chunk_type, body):
            cleaned += data[position:end]
        position = end
    return bytes(cleaned)


def _png_crc(chunk_type: bytes, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(chunk_type))


def _png_text_may_locate(chunk_type: bytes, body: bytes) -> bool:
    if chunk_type not in (b"tEXt", b"zTXt", b"iTXt"):
        return False
    keyword, _, rest = body.partition(b"\x00")
    if keyword.startswith(b"Raw profile type"):  # ImageMagick's hex copy of EXIF or XMP
        return True
    if keyword == b"XML:com.adobe.xmp":
        compressed = chunk_type == b"zTXt" or (chunk_type == b"iTXt" and rest[:1] != b"\x00")
        return compressed or _mentions_gps(rest)
    return False


_VP8X_XMP_FLAG = 0x04


def _webp_without_gps(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    riff_end = 8 + riff_size
    if riff_end > len(data):
        raise ValueError("truncated WebP")
    chunks = []
    dropped_xmp = False
    position = 12
    while position < riff_end:
        fourcc, size = struct.unpack_from("<4sI", data, position)
        body_end = position + 8 + size
        if body_end > riff_end:
            raise ValueError("truncated WebP chunk")
        chunk_end = body_end + (size & 1)  # chunks are padded to an even length
        chunk = bytearray(data[position:chunk_end].ljust(chunk_end - position, b"\0"))
        position = chunk_end
        if fourcc == b"EXIF":
            _remove_gps_ifd(chunk, 8 + (6 if chunk[8:].startswith(b"Exif\x00\x00") else 0))
        elif fourcc == b"XMP " and _mentions_gps(chunk[8:]):
            dropped_xmp = True
            continue
        chunks.append(chunk)
    if dropped_xmp and chunks and chunks[0][:4] == b"VP8X":
        chunks[0][8] &= ~_VP8X_XMP_FLAG & 0xFF
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _heif_without_gps(data: bytes, xmp: bytes | None) -> bytes:
    # The EXIF of a HEIF file sits in an item somewhere in the file. Rather than walk the box
    # structure, try every TIFF header; a stray match inside compressed data is not a valid IFD
    # chain with a GPS tag, and strip_gps checks the result anyway.
    edited = bytearray(data)
    for header in (b"II*\x00", b"MM\x00*"):
        position = edited.find(header)
        while position != -1:
            with contextlib.suppress(ValueError, KeyError, struct.error):
                _remove_gps_ifd(edited, position)
            position = edited.find(header, position + 1)
    if xmp and _mentions_gps(xmp):
        packet = xmp if isinstance(xmp, bytes) else xmp.encode()
        if edited.count(packet) != 1:
            raise ValueError("cannot find the XMP packet that mentions GPS")
        start = edited.find(packet)
        edited[start : start + len(packet)] = b" " * len(packet)  # XMP allows padding with spaces
    return bytes(edited)


_CLEAN_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "HEIF": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def clean_image(data: bytes) -> tuple[bytes, str]:
    """The photo rebuilt from its pixels alone, turned upright; returns (bytes, extension).

    No EXIF, GPS, XMP, IPTC, ICC profile (colours are converted to sRGB), comment or text
    chunk survives. HEIC becomes JPEG; only the first frame of an animation is kept.
    """
    with _opened_image(data) as image:
        output_format = _CLEAN_FORMATS.get(image.format or "")
        if output_format is None:
            raise UncleanableFile()
        try:
            pixels = _in_srgb(ImageOps.exif_transpose(image), output_format)
            # A new image from the pixels alone: a plain re-save would carry over comments,
            # ICC profiles and XMP kept in image.info.
            fresh = Image.new(pixels.mode, pixels.size)
            fresh.paste(pixels)
            out = io.BytesIO()
            options = {} if output_format == "PNG" else {"quality": 90}
            fresh.save(out, format=output_format, **options)
        except Exception as error:
            raise UncleanableFile() from error
    return out.getvalue(), _EXTENSIONS[output_format]


def _in_srgb(image: Image.Image, output_format: str) -> Image.Image:
    has_alpha = image.has_transparency_data
    if output_format == "JPEG":
        if has_alpha:
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        mode = "L" if image.mode in ("1", "L", "I;16") else "RGB"
    else:
        mode = "RGBA" if has_alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
            return ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=mode,
            )
    return image.convert(mode)


