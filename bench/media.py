"""Evidence files for the benchmarks, and the benchmark of cleaning them.

    .venv/bin/python bench/media.py [--size-mb 100] [--rounds 3]

Times and peak memory (VmHWM, reset before each step, in a fresh process per measurement) of:
remuxing a 100 MB phone-like video without its metadata (and without only its location),
refusing six 9000 × 9000 PNGs (the image bombs of issue 15), decoding one such PNG as the
server did before the pixel bound, and rebuilding a 12 and a 40 megapixel photo under 脫敏.
The other benchmarks import make_photo and make_mp4 from here.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import median, print_machine, table  # noqa: E402
from crafted import phone_video as make_mp4  # noqa: E402, F401  (the other benchmarks' too)


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


def bomb_png() -> bytes:
    """A 9000 × 9000 RGB PNG: about 230 KB on disk, 243 MB once decoded."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (9000, 9000), (200, 200, 200)).save(out, format="PNG")
    return out.getvalue()


# --- measurements, each in a fresh process -------------------------------------------------


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # KiB
    raise KeyError(field)


def _measure(step) -> dict:
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    outcome = step()
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "before_kib": before, "peak_kib": _status("VmHWM"), "outcome": outcome}


def child(task: str, argument: str) -> dict:
    from formserver.privacy.media import clean_media_file
    from formserver.privacy.photos import clean_image
    from formserver.uploads import EvidenceError, read_uploads

    if task in ("remux", "remux-keep"):
        source = Path(argument)
        target = source.with_name("cleaned-" + source.name)

        def step():
            media = clean_media_file(source, target, "mp4", keep_metadata=task == "remux-keep")
            return f"{media.duration:.0f} s, {target.stat().st_size / 2**20:.0f} MiB out"
        return _measure(step)
    if task == "bombs":
        from werkzeug.datastructures import FileStorage

        bomb = Path(argument).read_bytes()
        uploads = [FileStorage(io.BytesIO(bomb), filename=f"bomb-{n}.png",
                               content_type="image/png") for n in range(6)]

        def step():
            try:
                read_uploads(uploads, max_files=6, max_file_size=5 << 20,
                             max_total_size=7 << 20, anonymize=True)
            except EvidenceError as error:
                return "refused: " + str(error)[:28] + "…"
            return "accepted"
        return _measure(step)
    if task == "decode":  # what the server did before the bound, for one file
        data = Path(argument).read_bytes()
        return _measure(lambda: f"{len(clean_image(data)[0]) / 2**20:.1f} MiB out")
    raise SystemExit(f"unknown task {task}")


def run_child(task: str, argument: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", task, str(argument)],
                            capture_output=True, text=True, check=True, cwd=HERE.parent)
    return json.loads(result.stdout.strip().splitlines()[-1])


def photo_of(path: Path, megapixels: float) -> Path:
    from PIL import Image

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    rng = random.Random(3)
    tile = Image.frombytes("RGB", (256, 256), rng.randbytes(256 * 256 * 3))
    image = Image.new("RGB", (width, height))
    for x in range(0, width, 256):
        for y in range(0, height, 256):
            image.paste(tile, (x, y))
    image.save(path, "JPEG", quality=90)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    print_machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-media-", dir="/var/tmp") as folder:
        work = Path(folder)
        started = time.perf_counter()
        video = make_mp4(work / "clip.mp4", args.size_mb * 2**20, args.seconds)
        print(f"made {video.stat().st_size / 2**20:.0f} MiB, {args.seconds:.0f} s video in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        bomb = work / "bomb.png"
        bomb.write_bytes(bomb_png())
        cases = [
            (f"remux a {video.stat().st_size / 2**20:.0f} MiB video, 脫敏 (no metadata)",
             "remux", video),
            (f"remux a {video.stat().st_size / 2**20:.0f} MiB video, location only",
             "remux-keep", video),
            (f"six 9000×9000 PNGs ({bomb.stat().st_size // 1024} KB each), 脫敏", "bombs",
             bomb),
            ("one 9000×9000 PNG rebuilt, were there no bound", "decode", bomb),
            ("a 12 MP photo rebuilt (脫敏)", "decode", photo_of(work / "12mp.jpg", 12)),
            ("a 40 MP photo rebuilt (脫敏, the bound)", "decode", photo_of(work / "40mp.jpg", 40)),
        ]
        for name, task, path in cases:
            runs = [run_child(task, path) for _ in range(args.rounds)]
            rows.append([name, f"{median(r['seconds'] for r in runs):.2f}",
                         f"{median(r['cpu'] for r in runs):.2f}",
                         f"{median(r['before_kib'] for r in runs) / 1024:.0f}",
                         f"{median(r['peak_kib'] for r in runs) / 1024:.0f}",
                         f"{median(r['peak_kib'] - r['before_kib'] for r in runs) / 1024:.0f}",
                         runs[0]["outcome"]])
            print(rows[-1], flush=True)
    table(["step", "median s", "CPU s", "RSS before MiB", "peak MiB", "growth MiB",
           "outcome"], rows, title=f"Evidence cleaning ({args.rounds} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
