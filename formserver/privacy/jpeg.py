"""JPEG files rewritten segment by segment: the compressed image is copied as it is.

Two edits: without the location (EXIF's GPS IFD, the thumbnail's EXIF, XMP, the Photoshop
APP13 copies of EXIF and XMP), or without any metadata at all (for images inside PDFs, whose
pixels must stay exactly as they are). Whatever follows the end of the image is dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from .exif import mentions_gps, remove_gps_ifd

_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_HEADER = b"Photoshop 3.0\x00"
_PHOTOSHOP_EXIF, _PHOTOSHOP_XMP = 0x0422, 0x0424
_ADOBE = 0xEE  # APP14 "Adobe": how to read the colours, needed to decode the image


def jpeg_without_gps(data: bytes) -> bytes:
    """The JPEG without its location; every other segment kept. Raises ValueError."""
    return _rewrite(data, _segment_without_gps)


def jpeg_without_metadata(data: bytes) -> bytes:
    """The JPEG with no APPn segment but Adobe's colour transform and no comment."""
    return _rewrite(data, _segment_without_metadata)


def _rewrite(data: bytes, edit: Callable[[int, bytes], bytes]) -> bytes:
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
            cleaned += edit(marker, data[position:end])
            position = end
            if marker == 0xDA:  # start of scan: copy the compressed data up to the next marker
                scan_end = _end_of_scan(data, position)
                cleaned += data[position:scan_end]
                position = scan_end


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


def _segment_without_gps(marker: int, segment: bytes) -> bytes:
    payload = segment[4:]
    if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
        edited = bytearray(segment)
        remove_gps_ifd(edited, 10)
        return bytes(edited)
    if marker == 0xE1 and payload.startswith(_XMP_HEADER) and mentions_gps(payload):
        return b""
    # Extended XMP is split in pieces that cannot be searched one by one; it holds depth maps
    # and the like, nothing needed to show the photo.
    if marker == 0xE1 and payload.startswith(_EXTENDED_XMP_HEADER):
        return b""
    if marker == 0xE2 and payload.startswith(b"MPF\x00"):  # index of the images dropped after EOI
        return b""
    if marker == 0xED and payload.startswith(_PHOTOSHOP_HEADER):
        try:
            resources = _photoshop_without_gps(payload[len(_PHOTOSHOP_HEADER) :])
        except (ValueError, KeyError, IndexError, struct.error):
            return b""  # unreadable: it goes whole rather than the photo being refused
        body = _PHOTOSHOP_HEADER + resources
        return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body
    return segment


def _segment_without_metadata(marker: int, segment: bytes) -> bytes:
    if marker == _ADOBE and segment[4:9] == b"Adobe":
        return segment
    if 0xE0 <= marker <= 0xEF or marker == 0xFE:
        return b""
    return segment


def _photoshop_without_gps(resources: bytes) -> bytes:
    """Photoshop's image resources (IPTC and copies of EXIF and XMP) without the location."""
    kept = bytearray()
    position = 0
    while position + 12 <= len(resources) and resources[position : position + 4] == b"8BIM":
        (resource,) = struct.unpack_from(">H", resources, position + 4)
        name_length = resources[position + 6]
        name_end = position + 7 + name_length + (1 - name_length % 2)  # padded to even
        (size,) = struct.unpack_from(">I", resources, name_end)
        data_start = name_end + 4
        data_end = data_start + size + size % 2
        if data_start + size > len(resources):
            raise ValueError("truncated Photoshop resource")
        block = bytearray(resources[position:data_end])
        if resource == _PHOTOSHOP_EXIF:
            remove_gps_ifd(block, data_start - position)
        if not (resource == _PHOTOSHOP_XMP and mentions_gps(block)):
            kept += block
        position = data_end
    if position != len(resources) and resources[position:].strip(b"\x00"):
        raise ValueError("unreadable Photoshop resources")
    return bytes(kept)
