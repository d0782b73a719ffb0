"""Evidence files made by real tools for the tests, and an independent reader of what is left.

Clips are encoded by FFmpeg through PyAV; tags the encoder cannot write (QuickTime Keys, ID3,
RIFF INFO, thumbnails, APP13) are written by exiftool; PDFs are built with pikepdf. What a
cleaned file still says is read back with exiftool (`-a -G1 -ee -j`), never with the code that
cleaned it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import random
import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="exiftool is not installed (Debian package libimage-exiftool-perl; scripts/test "
           "installs it)")

# What a phone or an app writes into a recording, each value easy to find again.
TITLE = "Lift stuck at 12B"
ARTIST = "Chan Tai Man"
LOCATION = "+22.2783+114.1747/"
CLIP_METADATA = {"title": TITLE, "artist": ARTIST, "comment": "recorded by flat 12B",
                 "location": LOCATION, "creation_time": "2024-03-15T14:30:00Z",
                 "encoder": "SecretCam 1.0"}
SECRETS = ("Lift stuck", "Chan Tai", "12B", "22.27", "114.17", "2024", "SecretCam", "Lavf5",
           "Lavf6", "Lavc")
# (extension, PyAV muxer, video codec, audio codec, audio sample rate)
CLIP_KINDS = [
    ("mp4", "mp4", "h264", "aac", 16000),
    ("mov", "mov", "h264", "aac", 16000),
    ("hevc.mov", "mov", "hevc", "aac", 16000),
    ("3gp", "3gp", "h264", "amr_nb", 8000),
    ("webm", "webm", "libvpx-vp9", "libopus", 48000),
    ("m4a", "ipod", None, "aac", 16000),
    ("mp3", "mp3", None, "mp3", 16000),
    ("wav", "wav", None, "pcm_s16le", 8000),
    ("ogg", "ogg", None, "libopus", 48000),
    ("amr", "amr", None, "amr_nb", 8000),
]


def make_clip(path: Path, muxer: str, video: str | None, audio: str | None, rate: int = 16000,
              metadata: dict | None = None, seconds: float = 1.0, size=(64, 48)) -> Path:
    """A short clip encoded by FFmpeg: changing grey frames at 10 fps and a 440 Hz tone."""
    with av.open(str(path), "w", format=muxer) as out:
        out.metadata.update(metadata or {})
        video_stream = audio_stream = None
        if video:  # every stream before the first packet: the header is written then
            video_stream = out.add_stream(video, rate=10)
            video_stream.width, video_stream.height = size
            video_stream.pix_fmt = "yuv420p"
        if audio:
            audio_stream = out.add_stream(audio, rate=rate, layout="mono")
        if video_stream:
            for index in range(round(10 * seconds)):
                frame = av.VideoFrame(*size, "yuv420p")
                for number, plane in enumerate(frame.planes):
                    plane.update(bytes([(index * 25 + number * 60) % 256]) * plane.buffer_size)
                frame.pts = index
                out.mux(video_stream.encode(frame))
            out.mux(video_stream.encode())
        if audio_stream:
            context = audio_stream.codec_context
            step = context.frame_size or 1024
            for start in range(0, round(rate * seconds), step):
                out.mux(audio_stream.encode(_tone(context, start, step)))
            out.mux(audio_stream.encode())
    return path


def _tone(context, start: int, samples: int) -> av.AudioFrame:
    layout = context.format.name
    frame = av.AudioFrame(format=layout, layout="mono", samples=samples)
    wave = [0.3 * math.sin((start + k) * 2 * math.pi * 440 / context.sample_rate)
            for k in range(samples)]
    if layout.startswith("flt"):
        packed = struct.pack(f"<{samples}f", *wave)
    elif layout.startswith("s16"):
        packed = struct.pack(f"<{samples}h", *(int(v * 32767) for v in wave))
    else:
        packed = struct.pack(f"<{samples}i", *(int(v * 2**31) for v in wave))
    frame.planes[0].update(packed.ljust(frame.planes[0].buffer_size, b"\0"))
    frame.sample_rate, frame.pts = context.sample_rate, start
    return frame


def clip(tmp_path: Path, kind: str, metadata: dict | None = None, **options) -> Path:
    """One clip of CLIP_KINDS (by extension), with CLIP_METADATA unless told otherwise."""
    [(ext, muxer, video, audio, rate)] = [row for row in CLIP_KINDS if row[0] == kind]
    path = tmp_path / f"original.{ext}"
    metadata = CLIP_METADATA if metadata is None else metadata
    return make_clip(path, muxer, video, audio, rate, metadata, **options)


def with_apple_location(path):
    """Add what an iPhone writes and FFmpeg does not: QuickTime Keys with an ISO 6709
    location, a title and an author, and the location again in ©xyz."""
    write_tags(path, "-Keys:GPSCoordinates=22.2783, 114.1747, 10", "-Keys:Title=Lift stuck",
               "-Keys:Author=Chan Tai Man", "-UserData:GPSCoordinates=22.2783, 114.1747",
               "-ItemList:GPSCoordinates=22.2783, 114.1747", "-UserData:Author=Chan Tai Man")
    tags = read_tags(path)
    assert located(tags) and leaks(tags), "exiftool wrote the tags the test needs"
    return path


def exiftool(*arguments: str | Path) -> str:
    return exiftool_bytes(*arguments).decode("utf-8")


_READY = b"{ready}\n"
_running = []  # one exiftool for the session: starting Perl costs a quarter of a second


def exiftool_bytes(*arguments: str | Path) -> bytes:
    """What exiftool prints for these arguments, from one process kept running
    (-stay_open): each call costs milliseconds instead of a new Perl."""
    if not _running:
        process = subprocess.Popen([EXIFTOOL, "-stay_open", "True", "-@", "-"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
        atexit.register(_stop, process)
        _running.append(process)
    process = _running[0]
    lines = [str(argument) for argument in arguments]
    assert not any("\n" in line for line in lines)
    process.stdin.write(("\n".join([*lines, "-execute"]) + "\n").encode("utf-8"))
    process.stdin.flush()
    output = bytearray()
    while not output.endswith(_READY):
        chunk = process.stdout.read1(65536)
        assert chunk, "exiftool stopped"
        output += chunk
    return bytes(output[: -len(_READY)])


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        process.stdin.write(b"-stay_open\nFalse\n")
        process.stdin.close()
    process.wait(timeout=10)


def write_tags(path: Path, *assignments: str) -> None:
    """exiftool -TAG=VALUE ... in place."""
    exiftool("-m", "-overwrite_original", *assignments, path)  # (-q would hide "{ready}")


def read_tags(path: Path) -> dict[str, object]:
    """Every tag exiftool finds, embedded documents included, as {"Group:Tag": value}; the
    tags that describe the file rather than what it says of itself (name, size, exiftool's
    own version, dates of the copy on disk) are left out."""
    [tags] = json.loads(exiftool("-a", "-G1", "-ee", "-j", "-struct", path))
    return {key: value for key, value in tags.items()
            if key.split(":")[0] not in ("SourceFile", "System", "ExifTool", "File")}


def leaks(tags: dict[str, object], secrets=SECRETS) -> list[str]:
    """The tags whose value carries one of the secrets."""
    return [f"{key}={value!r}" for key, value in tags.items()
            if any(secret.lower() in json.dumps(value, ensure_ascii=False).lower()
                   for secret in secrets)]


def located(tags: dict[str, object]) -> list[str]:
    """The tags that give a place: GPS, ISO 6709 coordinates, location atoms."""
    return [f"{key}={value!r}" for key, value in tags.items()
            if any(word in key.lower() for word in ("gps", "location", "coordinates"))
            or any(number in str(value) for number in ("22.27", "114.17", "22 deg", "114 deg"))]


def decoded_frames(path: Path) -> dict[str, int]:
    """How many frames of each kind FFmpeg decodes from the file: proof that it still plays."""
    counts = {"video": 0, "audio": 0}
    with av.open(str(path)) as container:
        for frame in container.decode(*container.streams.video, *container.streams.audio):
            kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
            counts[kind] += 1
    return counts


# --- a phone's clip, as large as phones make them ----------------------------------------------

PHONE_METADATA = {"title": TITLE, "artist": ARTIST, "location": LOCATION,
                  "creation_time": "2024-03-15T14:30:00Z"}


def phone_video(path: Path, size: int = 20 * 1024 * 1024, seconds: float = 60.0,
                metadata: dict | None = None) -> Path:
    """A real H.264 + AAC MP4 of at most `size` bytes (and 3 % less at the least), about
    `seconds` long at 30 pictures a second (as many packets as a phone's clip), with the title,
    time and location a phone writes (a ©xyz location atom).
    Thirty noise pictures, sized to give the bitrate, are encoded once (every one a key
    frame) and repeated, so making 100 MB takes a second; FFmpeg decodes it like any clip.
    What x264 makes of noise is a guess: the number of pictures is then tuned to the size."""
    frames = max(1, round(30 * seconds))
    for _ in range(6):
        _write_phone_video(path, size, seconds, frames, metadata)
        made = path.stat().st_size
        if size * 0.97 <= made <= size:
            return path
        frames = max(1, int(frames * size * 0.985 / made))
    raise AssertionError(f"could not make a video of {size} bytes (last {made})")


def _write_phone_video(path: Path, size: int, seconds: float, frames: int,
                       metadata: dict | None) -> None:
    import av

    fps = 30
    width, height = _picture_size(size / (fps * seconds), 1.5)
    width, height = _picture_size(size / (fps * seconds), _noise_bytes_per_pixel(width, height))
    rng = random.Random(20)
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata.update(PHONE_METADATA if metadata is None else metadata)
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


# --- PDFs ------------------------------------------------------------------------------------

PDF_AUTHOR = "Chan Tai Man"
PDF_NOTE = "note from flat 12B"
PDF_FIELD_VALUE = "Chan Tai Man, 9123 4567"


def pdf_with_everything(photo: bytes, open_action=None) -> bytes:
    """A one-page PDF that carries what a resident's PDF may carry besides its page: document
    information, XMP, an annotation with an author and a note, a filled form field, and a
    camera JPEG (EXIF with GPS, XMP, a comment) drawn on the page."""
    import io

    import pikepdf
    from pikepdf import Array, Dictionary, Name, String
    from PIL import Image

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    with Image.open(io.BytesIO(photo)) as image:
        width, height = image.size
    picture = pdf.make_stream(photo, Type=Name.XObject, Subtype=Name.Image, Width=width,
                              Height=height, ColorSpace=Name.DeviceRGB, BitsPerComponent=8,
                              Filter=Name.DCTDecode)
    page.obj.Resources = Dictionary(XObject=Dictionary(Im0=picture))
    page.obj.Contents = pdf.make_stream(b"q 160 0 0 80 20 60 cm /Im0 Do Q")
    note = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Text, Rect=Array([10, 10, 30, 30]),
        T=String(PDF_AUTHOR), Contents=String(PDF_NOTE), M=String("D:20240315143000+08'00'")))
    field = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T=String("resident"),
        V=String(PDF_FIELD_VALUE), Rect=Array([40, 10, 190, 30]), P=page.obj))
    page.obj.Annots = Array([note, field])
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]))
    if open_action is not None:
        pdf.Root.OpenAction = open_action
    xmp = ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="22,16.698N" '
           'exif:GPSLongitude="114,10.482E">'
           f'<dc:creator><rdf:Seq><rdf:li>{PDF_AUTHOR}</rdf:li></rdf:Seq></dc:creator>'
           '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    pdf.Root.Metadata = pdf.make_stream(xmp.encode(), Type=Name.Metadata, Subtype=Name.XML)
    pdf.docinfo["/Author"] = PDF_AUTHOR
    pdf.docinfo["/Title"] = "Complaint by flat 12B"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def pdf_images(data: bytes) -> list[bytes]:
    """The raw bytes of every image in the PDF, as they are stored (a JPEG stays a JPEG)."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [obj.read_raw_bytes() for obj in pdf.objects
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]


def tags_of_bytes(tmp_path: Path, data: bytes, name: str) -> dict[str, object]:
    path = tmp_path / name
    path.write_bytes(data)
    return read_tags(path)
