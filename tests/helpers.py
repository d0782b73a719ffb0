"""Helpers for the tests and the benchmarks: fixture data, a real SMTP server, the form flow.
No fixtures here (they are in conftest.py); tests and bench/ import these directly."""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

from jinja2 import BytecodeCache
from PIL import Image, ImageCms

ROOT = Path(__file__).resolve().parent.parent


def load_build_module():
    """build.py is a script, not an installed module (the name `build` is PyPA's)."""
    if "site_build" not in sys.modules:
        spec = importlib.util.spec_from_file_location("site_build", ROOT / "build.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["site_build"] = module
        spec.loader.exec_module(module)
    return sys.modules["site_build"]


FIXTURE_PAGES = {
    "index.md": """\
        ---
        title: 首頁
        description: 測試網站的首頁。
        order: 0
        ---
        歡迎。請先閱讀[準備](prep.md)，然後看[流程的第二步](steps.md#second)。

        [我要投訴](/complaint){.button}
        """,
    "prep.md": """\
        ---
        title: 投訴準備
        description: 準備投訴。
        order: 2
        ---
        收集證據後，致電{{ site.office.phone }}。
        """,
    "steps.md": """\
        ---
        title: 投訴流程
        description: 五個步驟。
        order: 1
        ---
        ## 第一步 提交

        內容。

        ## 第二步 {#second}

        內容。

        ## 第三步 調查核實

        回到[首頁](index.md)或[第三步](#第三步-調查核實)。
        """,
    "staff/index.md": """\
        ---
        title: 員工指引
        description: 給管理處員工。
        order: 10
        ---
        見[接待](reception.md)。
        """,
    "staff/reception.md": """\
        ---
        title: 接待投訴
        description: 接待的要訣。
        order: 11
        ---
        回到[流程](../steps.md)。
        """,
}

FIXTURE_CONFIG = """\
base_url = "https://estate.test"
region = "HK"
app_paths = ["/complaint", "/follow-up", "/status"]
[estate]
name = "測試花園"
[office]
name = "物業管理處"
address = "測試花園地下"
phone = "2345 0000"
email = "office@estate.test"
hours = "星期一至五"
[committee]
name = "業主委員會"
address = "會所"
phone = "2345 0001"
email = "committee@estate.test"
hours = "每月一次"
"""



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SMTPRecorder:
    """An aiosmtpd handler that keeps what it accepts; tests can make it refuse or stall."""

    messages: list = field(default_factory=list)
    reply: str | None = None  # e.g. "451 4.3.0 try later" or "554 5.7.1 rejected"
    delay: float = 0.0
    received: threading.Event = field(default_factory=threading.Event)
    data_started: threading.Event = field(default_factory=threading.Event)
    begun: int = 0  # DATA commands begun
    finished: int = 0  # DATA commands answered, or abandoned by a client that went away
    changed: threading.Condition = field(default_factory=threading.Condition)
    peers: list = field(default_factory=list)  # the client's (address, port) per message

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.data_started.set()
        with self.changed:
            self.begun += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.reply:
                return self.reply
            self.messages.append(envelope)
            self.peers.append(session.peer)
            self.received.set()
            return "250 2.0.0 OK"
        finally:
            with self.changed:
                self.finished += 1
                self.changed.notify_all()

    def wait_finished(self, count: int, timeout: float = 10) -> bool:
        """Wait until `count` DATA commands are over (answered, or their client gone)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.finished >= count, timeout)

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until every DATA command begun is over: a message a client gave up on (a
        timeout, a kill) is in `messages` by then if the server kept it."""
        with self.changed:
            return self.changed.wait_for(lambda: self.finished >= self.begun, timeout)

    def parsed(self):
        return [BytesParser(policy=policy.default).parsebytes(m.content) for m in self.messages]


class SMTPServer:
    """A real aiosmtpd server on 127.0.0.1 that tests can stop and start again on its port;
    with smtputf8=True it offers SMTPUTF8 (addresses with non-ASCII local parts)."""

    def __init__(self, smtputf8: bool = False):
        self.host, self.port = "127.0.0.1", free_port()
        self.handler = SMTPRecorder()
        self.controller = None
        self.smtputf8 = smtputf8

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     enable_SMTPUTF8=self.smtputf8)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


# Every folder and file the form server keeps in its instance folder by default, and where a
# test puts it instead: never the project's instance/, which on a server holds real complaints
# (a test's purge there would delete them).
INSTANCE_PATHS = {"SPOOL_DIR": "spool", "MAILDIR": "maildir", "STATS_DB": "stats.sqlite",
                  "DRAFT_DIR": "drafts", "CASE_DB": "cases.sqlite", "CASE_FILES_DIR": "case-files"}


def instance_paths(folder: Path) -> dict[str, str]:
    """INSTANCE_PATHS, each in folder."""
    return {key: str(folder / name) for key, name in INSTANCE_PATHS.items()}


def app_config(folder: Path, smtp_port: int, site_dir: Path, **overrides) -> dict:
    """A configuration with every path in folder, delivering to 127.0.0.1:smtp_port."""
    return {
        "SECRET_KEY": "test-secret",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "complaints@estate.test",
        "OFFICE_EMAIL": "office@estate.test",
        "COMMITTEE_EMAIL": "committee@estate.test",
        **instance_paths(folder),
        "SITE_DIR": str(site_dir),
        "DELIVER_IN_PROCESS": False,
        **overrides,
    }


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept for the whole test session: every test makes a new app,
    and compiling the form's templates again would cost each a quarter of a second. Keyed by
    the template's name and its source's checksum, so a changed template compiles anew."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def make_app(tmp_path, smtp_server, built_site, **overrides):
    """The form server with every path in tmp_path, delivering to the test's SMTP server."""
    from formserver import create_app

    # MIN_FILL_SECONDS: the spam timer has its own test.
    app = create_app(app_config(tmp_path, smtp_server.port, built_site, TESTING=True,
                                MIN_FILL_SECONDS=0, **overrides))
    for environment in (app.jinja_env, app.extensions["simplified_templates"]):
        environment.bytecode_cache = COMPILED_TEMPLATES
    return app


def server_env(tmp_path, smtp_server, built_site, **settings) -> dict[str, str]:
    """The environment of a form server (gunicorn, `flask deliver`) started as its own
    process: every path in tmp_path, mail to the test's SMTP server; settings by key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    values = {
        "SECRET_KEY": "process-test-secret",
        "SMTP_HOST": smtp_server.host, "SMTP_PORT": smtp_server.port, "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "complaints@estate.test", "OFFICE_EMAIL": "office@estate.test",
        "COMMITTEE_EMAIL": "committee@estate.test",
        **instance_paths(tmp_path),
        "SITE_DIR": built_site, "DELIVER_IN_PROCESS": "false", "MIN_FILL_SECONDS": 0,
        **settings,
    }
    env.update({f"FORMSERVER_{key}": str(value) for key, value in values.items()})
    return env


def gunicorn_command(port: int) -> list[str]:
    """gunicorn as the unit runs it (deploy/gunicorn.conf.py), on a port of the test's."""
    return [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "formserver:create_app()"]


def gunicorn_service(tmp_path, smtp_server, built_site, workers: int, *extra: str,
                     **settings) -> Service:
    """gunicorn as the unit runs it, with `workers` sync workers on a free port, every path in
    tmp_path, settings by key, extra options before the app (not started yet)."""
    port = free_port()
    env = server_env(tmp_path, smtp_server, built_site, **settings)
    env["WEB_CONCURRENCY"] = str(workers)
    command = gunicorn_command(port)
    return Service("gunicorn", [*command[:-1], *extra, command[-1]], env,
                   tmp_path / "gunicorn.log", port)


class Service:
    """A process in its own session, so that kill -9 reaches its whole group (gunicorn's
    master and workers); its output goes to a log file."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path, port: int | None = None):
        self.name, self.args, self.env, self.log, self.port = name, args, env, log, port
        self.popen: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> Service:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=ROOT, env=self.env,
                                          start_new_session=True)
        if self.port:
            wait_for_port(self.port, self.popen, self.name, self.output)
        return self

    def kill(self) -> None:
        """kill -9, the whole process group."""
        self.kills += 1
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=10)
        self.signal_group(signal.SIGKILL)  # workers that outlived their master, if any
        if self.popen.poll() is None:
            self.popen.wait(timeout=10)

    def signal_group(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, number)

    def output(self, last: int = 3000) -> str:
        try:
            return self.log.read_text("utf-8", "replace")[-last:]
        except FileNotFoundError:
            return ""


class Browser:
    """Just enough of a browser for a server in another process: one cookie jar, a fresh
    connection per request, no redirects followed."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None):
        self.port = port
        self.cookies: dict[str, str] = dict(cookies or {})

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None, hold: threading.Barrier | None = None,
                ) -> tuple[int, http.client.HTTPMessage, str]:
        """One request; with `hold`, everything but the body's last byte is sent, then the
        barrier waited for: requests released together reach the app together."""
        headers = {"Content-Length": str(len(body or b""))}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            if body and hold:
                conn.send(body[:-1])
                hold.wait(timeout=30)
                conn.send(body[-1:])
            elif body:
                conn.send(body)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, text

    def post(self, path: str, fields: dict, hold: threading.Barrier | None = None,
             ) -> tuple[int, http.client.HTTPMessage, str]:
        return self.request("POST", path, *multipart(fields), hold=hold)


def together(count: int, action) -> list:
    """Run action(number, barrier) in `count` threads; each sends its request but the last
    byte, then waits at the barrier: the requests reach the workers at the same moment."""
    barrier = threading.Barrier(count)
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda number: action(number, barrier), range(count)))


def hidden_inputs(html: str) -> dict[str, str]:
    """A page's CSRF token and signed start time, as a browser sends them back."""
    return dict(re.findall(r'<input id="(csrf_token|form_started)" name="\1" type="hidden" '
                           r'value="([^"]+)"', html))


def wait_for_port(port: int, process=None, name: str = "server", output=lambda: "",
                  timeout: float = 30) -> None:
    """Wait until a server listens on 127.0.0.1:port; fail with its output if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{output()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{name} is not listening on {port} after {timeout} s:\n{output()}")


VALID_COMPLAINT = {
    "name": "陳大文",
    "unit": "第3座 12樓 B室",
    "phone": "9123 4567",
    "email": "chan.taiman@example.com",
    "recipient": "office",
    "category": "facilities",
    "subject": "第3座升降機經常停用",
    "description": "本月第3座兩部升降機經常停用，住戶要走樓梯。",
    "occurred_at": "2026-11-20T08:30",
    "location": "第3座大堂",
    "impact": "長者上落不便。",
    "expected_resolution": "一星期內修妥並公布維修時間。",
    "declaration": "y",
}


def hidden_fields(client, path="/complaint") -> dict[str, str]:
    """The CSRF token and the signed start time, as a browser would send them back."""
    return hidden_inputs(client.get(path).get_data(as_text=True))


def post_form(client, files=(), *, page=None, prefix="", **changes):
    """POST the complaint form with a real CSRF token, as shown on `page` (a "change" link's
    page changes the draft; /complaint starts a new one); None in changes drops a field.
    prefix: "/zh-hans" for the Simplified edition."""
    data = {**VALID_COMPLAINT, **hidden_fields(client, page or f"{prefix}/complaint"), **changes}
    data = {k: v for k, v in data.items() if v is not None}
    if files:
        data["evidence"] = list(files)
    return client.post(f"{prefix}/complaint", data=data, content_type="multipart/form-data")


SEND_FORM = re.compile(r'<form method="post" action="[^"]*/complaint/send".*?</form>', re.S)
HIDDEN = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')


def send_form_fields(review_html: str) -> dict[str, str]:
    """The hidden fields of the review page's send form (CSRF token, draft, digest)."""
    return dict(HIDDEN.findall(SEND_FORM.search(review_html).group(0)))


def multipart(fields: dict, files=()) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data request made by hand: values as str or
    raw bytes (e.g. not valid UTF-8); files as (field, file name, content type, bytes). The
    test client would put a large one in a temporary file it never closes."""
    boundary = f"----estate{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
             + (value if isinstance(value, bytes) else str(value).encode()) + b"\r\n"
             for name, value in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
              f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
              + data + b"\r\n" for name, filename, content_type, data in files]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), \
        f"multipart/form-data; boundary={boundary}"


def send_reviewed(client, prefix=""):
    """Press "send" on the review page, as a resident would."""
    review = client.get(f"{prefix}/complaint/review").get_data(as_text=True)
    return client.post(f"{prefix}/complaint/send", data=send_form_fields(review))


def submit(client, files=(), prefix="", **changes):
    """Fill in the form, then send it from the review page; returns the last response."""
    response = post_form(client, files, prefix=prefix, **changes)
    if response.status_code == 303 and response.headers["Location"].endswith("/complaint/review"):
        return send_reviewed(client, prefix)
    return response


def jpeg(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def upload(data: bytes, name: str, mimetype: str = "application/octet-stream"):
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename=name, content_type=mimetype)


def office_message(smtp_server):
    [message] = [m for m in smtp_server.handler.parsed() if "office@estate.test" in m["To"]
                 or "committee@estate.test" in m["To"]]
    return message


def error_of(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"><span class="visually-hidden">錯誤：</span>([^<]+)',
                      html)
    return match.group(1) if match else ""


# --- photos with everything a camera writes -------------------------------------------------

MAKE, MODEL, ORIENTATION, DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
EXIF_IFD, GPS_IFD, DATETIME_ORIGINAL = 0x8769, 0x8825, 0x9003
CAMERA_MODEL = "SecretCam X100"
COMMENT = b"taken by resident of flat 12B"
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="22,17.5N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
RED, BLUE = (255, 0, 0), (0, 0, 255)


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    exif[MODEL] = CAMERA_MODEL
    exif[ORIENTATION] = orientation
    exif[DATETIME] = "2024:03:16 09:00:00"
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2024:03:15 14:30:00"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (22.0, 17.0, 30.5), 3: "E", 4: (114.0, 10.0, 12.25)})
    return exif


def painted_image() -> Image.Image:
    """40 × 20, blue with a red top-left corner, so any turn shows."""
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 12, 10))
    return image


def camera_photo(image_format: str = "JPEG") -> bytes:
    out = io.BytesIO()
    options = {"exif": camera_exif().tobytes()}
    if image_format == "JPEG":
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        options.update(comment=COMMENT, xmp=XMP, icc_profile=icc, quality=95)
    elif image_format == "WEBP":
        options.update(xmp=XMP, lossless=True)
    elif image_format == "HEIF":
        options.update(quality=90)
    painted_image().save(out, format=image_format, **options)
    return out.getvalue()


def corners(image: Image.Image) -> list[tuple[int, ...]]:
    width, height = image.size
    rgb = image.convert("RGB")
    return [rgb.getpixel((x, y)) for x in (2, width - 3) for y in (2, height - 3)]


def close(first: tuple[int, ...], second: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(first, second, strict=True))


def with_photoshop_copies(jpeg_bytes: bytes) -> bytes:
    """The JPEG with a Photoshop APP13 segment holding copies of the camera's EXIF (GPS
    included) and of an XMP packet with GPS, as image editors write them."""
    import struct

    def resource(number: int, data: bytes) -> bytes:
        padding = b"\0" if len(data) % 2 else b""
        return b"8BIM" + struct.pack(">H", number) + b"\0\0" + struct.pack(">I", len(data)) + (
            data + padding)

    tiff = camera_exif().tobytes()[6:]  # without the "Exif\0\0" of an APP1 segment
    body = b"Photoshop 3.0\0" + resource(0x0422, tiff) + resource(0x0424, XMP)
    segment = b"\xff\xed" + struct.pack(">H", len(body) + 2) + body
    return jpeg_bytes[:2] + segment + jpeg_bytes[2:]
