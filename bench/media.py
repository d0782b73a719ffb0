"""Evidence files for the benchmarks: a real JPEG photo and a large MP4, both deterministic."""

from __future__ import annotations

import random
import struct
from pathlib import Path


def make_photo(path: Path, size: int = 3 * 1024 * 1024) -> Path:
    """A real JPEG of about `size` bytes (noise compresses badly) with the EXIF a phone writes:
    the time it was taken and a GPS position (which the server strips)."""
    from PIL import Image

    rng = random.Random(7)
    exif = Image.Exif()
    exif[0x0110] = "Bench Phone"  # Model
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 08:30:00"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (22.0, 17.0, 0.0), 3: "E", 4: (114.0, 10.0, 0.0)})
    width = 1200
    while True:
        height = width * 3 // 4
        image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        image.save(path, "JPEG", quality=90, exif=exif)
        got = path.stat().st_size
        if abs(got - size) < size * 0.05:
            return path
        width = int(width * (size / got) ** 0.5)


def make_mp4(path: Path, size: int = 20 * 1024 * 1024) -> Path:
    """An MP4 of exactly `size` bytes: an ftyp box, then one mdat box of filler."""
    ftyp = b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41"
    ftyp_box = struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp
    rest = size - len(ftyp_box)
    rng = random.Random(20)
    with path.open("wb") as f:
        f.write(ftyp_box)
        f.write(struct.pack(">I", rest) + b"mdat")
        left = rest - 8
        while left:
            chunk = min(left, 1 << 20)
            f.write(rng.randbytes(chunk))
            left -= chunk
    return path
