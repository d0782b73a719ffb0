"""EXIF (a TIFF structure) edited in place: the GPS IFD blanked and unlinked, everywhere it hides.

Every byte keeps its place, so the offsets that the rest of the structure uses stay valid and
the surrounding file (JPEG, PNG, WebP, HEIF, a Photoshop resource) needs no other change.
"""

from __future__ import annotations

import struct

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
_XML_PACKET = 0x02BC  # XMP kept inside the EXIF itself
_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH = 0x0201, 0x0202

# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ... IFD).
_TIFF_TYPE_SIZES = dict(enumerate((1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4), start=1))
_MOST_IFDS = 16  # IFD0, the thumbnail's IFD1; a long chain is a malformed file


def mentions_gps(metadata: bytes | str | None) -> bool:
    """Whether text metadata (XMP, a PNG text chunk) may hold a location."""
    if isinstance(metadata, str):
        metadata = metadata.encode("utf-8", "replace")
    return bool(metadata) and b"gps" in metadata.lower()


def remove_gps_ifd(tiff: bytearray, base: int, depth: int = 0) -> None:
    """Blank the GPS IFD of the TIFF structure starting at tiff[base] and unlink it; blank XMP
    packets that mention GPS; do the same inside the thumbnail's own EXIF (IFD1's JPEG).

    Raises ValueError (or IndexError, KeyError, struct.error) on a malformed structure.
    """
    order = {b"II": "<", b"MM": ">"}[bytes(tiff[base : base + 2])]
    magic, ifd = struct.unpack_from(order + "HI", tiff, base + 2)
    if magic != 42:
        raise ValueError("not a TIFF header")
    seen = set()
    while ifd and ifd not in seen:  # IFD0, then the thumbnail's IFD1
        if len(seen) >= _MOST_IFDS:
            raise ValueError("too many IFDs")
        seen.add(ifd)
        ifd = _clean_ifd(tiff, base, base + ifd, order, depth)


def _clean_ifd(tiff: bytearray, base: int, position: int, order: str, depth: int) -> int:
    """Clean one IFD; return the offset of the next."""
    (count,) = struct.unpack_from(order + "H", tiff, position)
    end = position + 2 + 12 * count + 4
    if end > len(tiff):
        raise ValueError("IFD out of bounds")
    thumbnail = {}
    index = 0
    while index < count:
        entry = position + 2 + 12 * index
        tag, kind, number, value = struct.unpack_from(order + "HHII", tiff, entry)
        if tag == GPS_IFD:
            _blank_ifd(tiff, base, value, order)
            # Close the gap: later entries and the next-IFD offset move up one slot.
            tiff[entry : end - 12] = tiff[entry + 12 : end]
            tiff[end - 12 : end] = bytes(12)
            count -= 1
            end -= 12
            struct.pack_into(order + "H", tiff, position, count)
            continue
        if tag == _XML_PACKET:
            start, size = _value_span(tiff, base, entry, kind, number, value, order)
            if mentions_gps(bytes(tiff[start : start + size])):
                tiff[start : start + size] = b" " * size  # XMP allows padding with spaces
        if tag in (_THUMBNAIL_OFFSET, _THUMBNAIL_LENGTH):
            thumbnail[tag] = value if kind == 4 else value & 0xFFFF if order == "<" else value >> 16
        index += 1
    if len(thumbnail) == 2 and depth == 0:
        start = base + thumbnail[_THUMBNAIL_OFFSET]
        stop = start + thumbnail[_THUMBNAIL_LENGTH]
        try:
            neutralise_jpeg_metadata(tiff, start, stop, depth + 1)
        except (ValueError, KeyError, IndexError, struct.error):
            if stop > len(tiff):
                raise
            tiff[start:stop] = bytes(stop - start)  # an unreadable thumbnail is blanked
    (next_ifd,) = struct.unpack_from(order + "I", tiff, end - 4)
    return next_ifd


def _value_span(tiff, base, entry, kind, number, value, order) -> tuple[int, int]:
    size = _TIFF_TYPE_SIZES[kind] * number
    start = entry + 8 if size <= 4 else base + value
    if start + size > len(tiff):
        raise ValueError("value out of bounds")
    return start, size


def _blank_ifd(tiff: bytearray, base: int, offset: int, order: str) -> None:
    position = base + offset
    (count,) = struct.unpack_from(order + "H", tiff, position)
    end = position + 2 + 12 * count + 4
    if end > len(tiff):
        raise ValueError("GPS IFD out of bounds")
    for index in range(count):
        entry = position + 2 + 12 * index
        _, kind, number, value = struct.unpack_from(order + "HHII", tiff, entry)
        start, size = _value_span(tiff, base, entry, kind, number, value, order)
        tiff[start : start + size] = bytes(size)
    tiff[position:end] = bytes(end - position)


_COMMENT = 0xFE


def neutralise_jpeg_metadata(data: bytearray, start: int, stop: int, depth: int) -> None:
    """In a JPEG lying at data[start:stop] (an EXIF thumbnail), edit in place: GPS out of its
    EXIF; XMP and Photoshop segments that mention GPS turned into blank comments."""
    if bytes(data[start : start + 2]) != b"\xff\xd8" or stop > len(data):
        raise ValueError("the thumbnail is not a JPEG")
    position = start + 2
    while position + 4 <= stop and data[position] == 0xFF:
        marker = data[position + 1]
        if marker in (0xDA, 0xD9):  # start of scan, end of image: no metadata after this
            return
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        if end > stop:
            raise ValueError("truncated thumbnail segment")
        payload = bytes(data[position + 4 : end])
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            remove_gps_ifd(data, position + 10, depth)
        elif 0xE0 <= marker <= 0xEF and mentions_gps(payload):
            data[position + 1] = _COMMENT
            data[position + 4 : end] = bytes(end - position - 4)
        position = end
