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
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from common import median, print_machine, table  # noqa: E402

LOCATION_METADATA = {"title": "Lift stuck at 12B", "artist": "Bench Resident",
                     "location": "+22.2783+114.1747/", "creation_time": "2026-11-20T08:30:00Z"}


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


def make_mp4(path: Path, size: int = 20 * 1024 * 1024, seconds: float = 60.0) -> Path:
    """A real H.264 + AAC MP4 of about `size` bytes and `seconds` long at 30 pictures a second
    (as many packets as a phone's clip), with the title, time and location a phone writes.
    Thirty noise pictures, sized to give the bitrate, are encoded once (every one a key
    frame) and repeated, so making 100 MB takes seconds; FFmpeg decodes it like any clip."""
    import av

    fps, frames = 30, max(1, round(30 * seconds))
    width, height = _picture_size(size / frames, 1.5)
    width, height = _picture_size(size / frames, _noise_bytes_per_pixel(width, height))
    rng = random.Random(20)
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata.update(LOCATION_METADATA)
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "g": "1"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=48000, layout="mono")
        pictures = [packet for index in range(30)
                    for packet in video.encode(_noise_picture(width, height, rng, index))]
        pictures = [bytes(packet) for packet in pictures + video.encode()]
        sounds = _one_second_of_sound(audio)
        tick = Fraction(1, 90000)
        step = 90000 // fps
        sound_pts = 0
        for index in range(frames):  # interleaved a second at a time, as a camera writes
            if index % fps == 0:
                for data in sounds:
                    _mux(out, audio, data, sound_pts, Fraction(1, 48000), duration=1024)
                    sound_pts += 1024
            _mux(out, video, pictures[index % len(pictures)], index * step, tick,
                 duration=step, key=True)
    return path


def _picture_size(picture_bytes: float, bytes_per_pixel: float) -> tuple[int, int]:
    height = max(16, int((picture_bytes / bytes_per_pixel * 9 / 16) ** 0.5) // 2 * 2)
    return height * 16 // 9 // 2 * 2, height


def _noise_bytes_per_pixel(width: int, height: int) -> float:
    """What x264 makes of noise pictures of this size (about a byte a pixel)."""
    import av

    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.options = {"preset": "ultrafast", "g": "1"}
    rng = random.Random(1)
    packets = [packet for index in range(10)
               for packet in encoder.encode(_noise_picture(width, height, rng, index))]
    packets += encoder.encode(None)
    return sum(packet.size for packet in packets) / len(packets) / (width * height)


def _noise_picture(width: int, height: int, rng: random.Random, pts: int):
    import av

    frame = av.VideoFrame(width, height, "yuv420p")
    for plane in frame.planes:
        plane.update(rng.randbytes(plane.buffer_size))
    frame.pts = pts
    return frame


def _mux(out, stream, data: bytes, pts: int, time_base, duration: int = 0, key: bool = False):
    import av

    packet = av.Packet(data)  # a muxed packet gives its data away: a new one each time
    packet.stream, packet.time_base = stream, time_base
    packet.pts = packet.dts = pts
    packet.duration = duration
    packet.is_keyframe = key
    out.mux(packet)


def _one_second_of_sound(stream) -> list[bytes]:
    import av

    context = stream.codec_context
    samples = context.frame_size or 1024  # (known once the encoder is open)
    packets = []
    for start in range(0, 48000, samples):
        frame = av.AudioFrame(format=context.format.name, layout="mono", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = 48000, start
        packets += stream.encode(frame)
    packets += stream.encode()
    return [bytes(packet) for packet in packets if packet.size]


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
    from formserver.evidence import EvidenceError, read_uploads
    from formserver.privacy.media import clean_media_file
    from formserver.privacy.photos import clean_image

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
