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

from .exif import EXIF_IFD, GPS_IFD, mentions_gps, remove_gps_ifd
from .jpeg import jpeg_without_gps
from .uncleanable import UncleanableFile

pillow_heif.register_heif_opener()

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


def photo_pixels(data: bytes) -> int:
    """How many pixels decoding the photo would produce (all frames of an animation), read
    from its header without decoding it. Raises UncleanableFile."""
    with _opened_image(data) as image:
        try:
            frames = getattr(image, "n_frames", 1)
        except Exception as error:
            raise UncleanableFile() from error
        return image.width * image.height * frames


def photo_capture_time(data: bytes) -> str | None:
    """When the photo was taken, "YYYY-MM-DD HH:MM:SS", from its EXIF; None if unknown."""
    try:
        with _opened_image(data) as image:
            exif = image.getexif()
            taken = exif.get_ifd(EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
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
        "JPEG": jpeg_without_gps,
        "MPO": jpeg_without_gps,
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
            still_located = bool(exif.get_ifd(GPS_IFD)) or GPS_IFD in exif
        except Exception as error:
            raise UncleanableFile() from error
        if still_located or mentions_gps(image.info.get("xmp")):
            raise UncleanableFile()
    return cleaned


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
            remove_gps_ifd(edited, 6 if edited.startswith(b"Exif\x00\x00") else 0)
            cleaned += data[position : position + 8] + edited
            cleaned += struct.pack(">I", _png_crc(chunk_type, edited))
        elif not _png_text_may_locate(chunk_type, body):
            cleaned += data[position:end]
        position = end
    return bytes(cleaned)


def _png_crc(chunk_type: bytes, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(chunk_type))


def _png_text_may_locate(chunk_type: bytes, body: bytes) -> bool:
    """Whether a PNG text chunk may hold a location: ImageMagick's hex copies of EXIF or XMP,
    and any text whose keyword or words mention GPS (compressed text is inflated to look)."""
    if chunk_type not in (b"tEXt", b"zTXt", b"iTXt"):
        return False
    keyword, _, rest = body.partition(b"\x00")
    if keyword.startswith(b"Raw profile type"):
        return True
    if chunk_type == b"zTXt":
        text = _inflated(rest[1:])
    elif chunk_type == b"iTXt":
        compressed, rest = rest[:1] == b"\x01", rest[2:]
        _language, _, rest = rest.partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        text = _inflated(text) if compressed else text
    else:
        text = rest
    return text is None or mentions_gps(keyword) or mentions_gps(text)


_MOST_TEXT = 4 * 1024 * 1024  # inflating more than this is a bomb: the chunk is dropped


def _inflated(compressed: bytes) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(compressed, _MOST_TEXT)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else text


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
            remove_gps_ifd(chunk, 8 + (6 if chunk[8:].startswith(b"Exif\x00\x00") else 0))
        elif fourcc == b"XMP " and mentions_gps(chunk[8:]):
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
                remove_gps_ifd(edited, position)
            position = edited.find(header, position + 1)
    if xmp and mentions_gps(xmp):
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
            # At most two copies of the pixels at a time: a 40 megapixel photo is 120 MB each.
            ImageOps.exif_transpose(image, in_place=True)
            pixels = _in_srgb(image, output_format)
            if pixels is not image:
                image.close()
            # Nothing but the pixels: a plain re-save would carry over comments, ICC profiles
            # and XMP kept in image.info.
            pixels.info = {}
            out = io.BytesIO()
            options = {} if output_format == "PNG" else {"quality": 90}
            pixels.save(out, format=output_format, exif=b"", **options)
        except Exception as error:
            raise UncleanableFile() from error
    return out.getvalue(), _EXTENSIONS[output_format]


def _in_srgb(image: Image.Image, output_format: str) -> Image.Image:
    """The image in sRGB, in a mode the output format takes; the same image if it is already."""
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
    return image if image.mode == mode else image.convert(mode)


