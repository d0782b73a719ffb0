"""Video and audio evidence: what the file says of itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def video_capture_time(data: bytes) -> str | None:
    """creation_time of an MP4/MOV movie header (seconds since 1904, UTC), if it is set."""
    at = data.find(b"mvhd")
    if at < 4 or len(data) < at + 16:
        return None
    version = data[at + 4]
    size = 8 if version == 1 else 4
    seconds = int.from_bytes(data[at + 8 : at + 8 + size], "big")
    if not seconds:
        return None
    try:
        moment = datetime(1904, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
