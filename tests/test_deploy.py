"""The deployment, for real: nginx with deploy/nginx/*.conf in front of gunicorn with
deploy/gunicorn.conf.py, the built site, and mail out to a local SMTP server.

Everything listens on 127.0.0.1 only, and every process is started by these tests, as the
current user, with its files in a temporary folder."""

from __future__ import annotations

import configparser
import gzip
import http.client
import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from crafted import phone_video
from helpers import (
    ROOT,
    VALID_COMPLAINT,
    Browser,
    Service,
    SMTPRecorder,
    free_port,
    gunicorn_service,
    hidden_inputs,
    multipart,
    send_form_fields,
    wait_for_port,
)

DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MB = 1024 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

needs_nginx = pytest.mark.skipif(
    not os.access(NGINX, os.X_OK),
    reason=f"nginx is not installed ({NGINX}); scripts/test installs it with apt-get")
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


# --- processes ----------------------------------------------------------------------------------

def nginx_main(tmp: Path, http_body: str) -> str:
    """A top-level nginx.conf that keeps every file nginx writes inside tmp."""
    user = "user root root;\n" if os.geteuid() == 0 else ""  # no switch to nobody as root
    temp = "\n".join(f"    {kind}_temp_path {tmp / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""\
{user}daemon off;
master_process off;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
{http_body}
}}
"""


def start_nginx(tmp: Path, http_body: str, ports: list[int]) -> Service:
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_main(tmp, http_body), "utf-8")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-e", str(tmp / "error.log"),
                            "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = Service("nginx", [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"),
                                "-c", str(conf)], dict(os.environ), tmp / "nginx.out").start()
    for port in ports:
        wait_for_port(port, process.popen, process.name, process.output)
    return process


# --- HTTP ----------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def cookie(self) -> str:
        """The session cookie as a Cookie header would send it back."""
        for value in self.headers.get_all("Set-Cookie") or []:
            return value.split(";", 1)[0]
        return ""


def fetch(port: int, path: str, method: str = "GET", body=None, headers=None,
          tls: bool = False, **kwargs) -> Response:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {}, **kwargs)
        response = conn.getresponse()
        return Response(response.status, response.msg, response.read())
    finally:
        conn.close()


class Forms(HTMLParser):
    """The forms of a page: method, action and the hidden fields a browser sends back (the
    CSRF token and the like)."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (attrs.get("method") or "get").lower(),
                               "action": attrs.get("action") or "",
                               "enctype": attrs.get("enctype") or "", "fields": {}})
        elif self.forms and tag in ("input", "button") and attrs.get("name"):
            kind = attrs.get("type") or ("submit" if tag == "button" else "text")
            if kind in ("hidden", "submit") and attrs["name"] not in self.forms[-1]["fields"]:
                self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""

    def hidden(self, action: str) -> dict:
        form = next(f for f in self.forms if f["action"] == action and f["method"] == "post")
        return form["fields"]


def small_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def assert_security_headers(response: Response, where: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        values = response.headers.get_all(name) or []
        assert values == [value], f"{where}: {name} is {values}"


# --- the stack: SMTP server, gunicorn, nginx ----------------------------------------------------

@dataclass
class Stack:
    port: int  # nginx, plain HTTP
    app_port: int  # gunicorn
    site: Path
    mail: SMTPRecorder
    gunicorn: Service
    nginx: Service
    tmp: Path


@pytest.fixture(scope="module")
def mail_server():
    """The SMTP server the app delivers to (conftest's recorder, for the whole module)."""
    from aiosmtpd.controller import Controller

    handler = SMTPRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


def deployment_settings() -> dict[str, str]:
    """The settings deploy/estate-complaints.env.example gives, as /etc/estate-complaints.env."""
    lines = (DEPLOY / "estate-complaints.env.example").read_text("utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """Debian's redis-server on a free loopback port, nothing saved to disk; the deployment's
    storage URI with that port."""
    if not os.access(REDIS, os.X_OK):
        pytest.skip(f"redis-server is not installed ({REDIS}); scripts/test installs it")
    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    service = Service("redis-server", [REDIS, "--bind", "127.0.0.1", "--port", str(port),
                                       "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                      dict(os.environ), tmp / "redis.log", port).start()
    uri = deployment_settings().get("FORMSERVER_RATELIMIT_STORAGE_URI", "memory://")
    assert uri.startswith("redis://127.0.0.1:6379"), (
        f"the deployment counts with {uri}: each worker on its own, forgotten on restart")
    yield uri.replace("127.0.0.1:6379", f"127.0.0.1:{port}")
    service.stop()


@pytest.fixture(scope="module")
def gunicorn_app(tmp_path_factory, built_site, mail_server, redis_server):
    """The app under real gunicorn with deploy/gunicorn.conf.py, started as the unit does
    (but delivering in-process, so this test needs no second service)."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    mail = SimpleNamespace(host="127.0.0.1", port=mail_server.port)
    process = gunicorn_service(tmp, mail, built_site, 2, SECRET_KEY="deploy-test-secret",
                               SERVE_SITE="false", DELIVER_IN_PROCESS="true", DELIVERY_INTERVAL=1,
                               PROXY_FIX="true", RATELIMIT_STORAGE_URI=redis_server)
    try:
        yield process.start(), process.port
    finally:
        process.stop()


def site_server(tmp: Path, port: int, site: Path) -> str:
    """The plain-HTTP server block: what deploy/nginx.conf's TLS block has, minus TLS."""
    return f"""\
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        access_log {tmp / "access.log"} estate_complaints;
        root {site};
        set $estate_error_pages {DEPLOY / "errors"};
        include {DEPLOY / "nginx" / "estate-common.conf"};
    }}"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory, built_site, mail_server, gunicorn_app):
    gunicorn, app_port = gunicorn_app
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()
    http_body = f"""\
    include {DEPLOY / "nginx" / "estate-http.conf"};
    upstream estate_complaints_app {{ server 127.0.0.1:{app_port}; }}
{site_server(tmp, port, built_site)}"""
    nginx = start_nginx(tmp, http_body, [port])
    try:
        yield Stack(port, app_port, built_site, mail_server.handler, gunicorn, nginx, tmp)
    finally:
        nginx.stop()


# --- the site, served by nginx -------------------------------------------------------------------

@pytest.mark.slow
@needs_nginx
def test_pages_come_from_nginx_with_headers_and_short_caching(stack):
    for path in ("/", "/process/", "/zh-hans/process/"):
        response = fetch(stack.port, path)
        assert response.status == 200, path
        assert response.headers["Server"] == "nginx"  # gunicorn does not serve the site
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.body == (stack.site / path.lstrip("/") / "index.html").read_bytes()
        cache = response.headers.get_all("Cache-Control")
        assert cache == ["public, max-age=300, must-revalidate"], (path, cache)
        assert_security_headers(response, path)
        assert "Strict-Transport-Security" not in response.headers  # only over TLS


@pytest.mark.slow
@needs_nginx
def test_folders_without_slash_redirect(stack):
    response = fetch(stack.port, "/process")
    assert response.status == 301
    assert response.headers["Location"] == "/process/"


@pytest.mark.slow
@needs_nginx
def test_hashed_assets_are_cached_for_ever(stack):
    css = next((stack.site / "static").glob("style.*.css"))
    response = fetch(stack.port, f"/static/{css.name}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert response.body == css.read_bytes()
    assert_security_headers(response, css.name)


@pytest.mark.slow
@needs_nginx
def test_gzip(stack):
    css = next((stack.site / "static").glob("style.*.css"))
    for path, source in (("/process/", stack.site / "process" / "index.html"),
                         (f"/static/{css.name}", css)):
        response = fetch(stack.port, path, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in response.headers["Vary"]
        assert gzip.decompress(response.body) == source.read_bytes()
        plain = fetch(stack.port, path)
        assert "Content-Encoding" not in plain.headers


@pytest.mark.slow
@needs_nginx
@pytest.mark.parametrize("path", ["/.build-manifest.json", "/static/.build-manifest.json",
                                  "/.git/config", "/zh-hans/.hidden"])
def test_dotfiles_are_refused(stack, path):
    response = fetch(stack.port, path)
    assert response.status in (403, 404)
    assert b"fingerprint" not in response.body
    assert_security_headers(response, path)


@pytest.mark.slow
@needs_nginx
def test_missing_pages_get_the_sites_404_page(stack):
    response = fetch(stack.port, "/no-such-page/")
    assert response.status == 404
    assert response.body == (stack.site / "404.html").read_bytes()
    assert "找不到這一頁" in response.text
    assert "Cache-Control" not in response.headers
    assert_security_headers(response, "404")

    simplified = fetch(stack.port, "/zh-hans/no-such-page/")
    assert simplified.status == 404
    assert simplified.body == (stack.site / "zh-hans" / "404.html").read_bytes()


@pytest.mark.slow
@needs_nginx
def test_access_logs_hold_no_query_strings(stack):
    marker = "q" + uuid.uuid4().hex[:12]
    assert fetch(stack.port, f"/process/?phone={marker}").status == 200
    assert fetch(stack.port, f"/complaint?name={marker}").status == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # both logs are written as each request ends
        nginx_log = (stack.tmp / "access.log").read_text("utf-8")
        if "GET /complaint " in nginx_log and "GET /complaint " in stack.gunicorn.output():
            break
        time.sleep(0.1)
    assert '"GET /process/ HTTP/1.1" 200' in nginx_log
    assert '"GET /complaint HTTP/1.1" 200' in nginx_log
    assert re.search(r'"GET /complaint HTTP/1\.[01]" 200', stack.gunicorn.output())
    assert marker not in nginx_log
    assert marker not in stack.gunicorn.output()


# --- the app, through nginx -----------------------------------------------------------------------

def follow_to_confirmation(port: int, response: Response, cookie: str, steps: int = 6,
                           prefix: str = ""):
    """What a resident's browser does after posting the form: follow each redirect, and on a
    page that asks to confirm (a review step) press its button, until the page that shows the
    reference. Every page on the way carries the security headers."""
    for _ in range(steps):
        assert_security_headers(response, f"{response.status} on the way to the confirmation")
        cookie = response.cookie() or cookie
        if response.status in (301, 302, 303):
            target = urllib.parse.urlsplit(response.headers["Location"])
            assert target.hostname in (None, "127.0.0.1"), target  # same site only
            path = target.path + (f"?{target.query}" if target.query else "")
            response = fetch(port, path, headers={"Cookie": cookie})
            continue
        assert response.status == 200, response.text[:2000]
        if 'id="reference"' in response.text:
            return response
        forms = [f for f in Forms(response.text).forms
                 if f["method"] == "post" and f["action"] not in ("", f"{prefix}/complaint")]
        assert forms, f"no confirmation and nothing to press:\n{response.text[:2000]}"
        form = forms[-1]
        if "multipart" in form["enctype"]:
            body, content_type = multipart(form["fields"], [])
        else:
            body = urllib.parse.urlencode(form["fields"]).encode()
            content_type = "application/x-www-form-urlencoded"
        response = fetch(port, form["action"], "POST", body,
                         {"Content-Type": content_type, "Cookie": cookie})
    raise AssertionError(f"no confirmation page after {steps} steps")


def complain_through_nginx(stack, files=None, prefix=""):
    """A complaint with a photo (or these files) through nginx, on the form of the edition
    under `prefix`; (its confirmation page, the office's email)."""
    form = fetch(stack.port, f"{prefix}/complaint")
    assert form.status == 200
    assert form.headers["Server"] == "nginx"
    assert_security_headers(form, f"GET {prefix}/complaint")
    assert (form.headers.get_all("Cache-Control") or ["no-store"]) == ["no-store"]  # the app's
    hidden = Forms(form.text).hidden(f"{prefix}/complaint")
    assert hidden.get("csrf_token"), "no CSRF token in the form"
    cookie = form.cookie()
    assert cookie, "no session cookie"

    body, content_type = multipart({**VALID_COMPLAINT, **hidden}, files or [
        ("evidence", "lift.jpg", "image/jpeg", small_jpeg())])
    posted = fetch(stack.port, f"{prefix}/complaint", "POST", body,
                   {"Content-Type": content_type, "Cookie": cookie})
    sent = follow_to_confirmation(stack.port, posted, cookie, prefix=prefix)
    reference = re.search(r'id="reference">([^<]+)<', sent.text).group(1).strip()
    assert reference

    deadline = time.monotonic() + 15
    office = None
    while office is None and time.monotonic() < deadline:
        office = next((m for m in stack.mail.parsed() if reference in m["Subject"]
                       and "office@estate.test" in m["To"]), None)
        if office is None:
            time.sleep(0.2)
    assert office is not None, (f"no email with {reference} after 15 s:\n"
                                f"{stack.gunicorn.output()}")
    return sent, office


@pytest.mark.slow
@needs_nginx
def test_a_complaint_through_nginx_reaches_the_office(stack):
    _, office = complain_through_nginx(stack)
    names = [part.get_filename() for part in office.iter_attachments()]
    assert "evidence-1.jpg" in names, names


@pytest.mark.slow
@needs_nginx
def test_a_complaint_in_simplified_through_nginx_reaches_the_office(stack):
    sent, office = complain_through_nginx(stack, prefix="/zh-hans")
    assert 'lang="zh-Hans"' in sent.text and "投诉已提交" in sent.text
    status = fetch(stack.port, "/zh-hans/status")
    assert status.status == 200 and 'lang="zh-Hans"' in status.text
    assert status.headers.get_all("Referrer-Policy") == ["no-referrer"]
    assert fetch(stack.port, "/zh-hans/follow-up").status == 200


@pytest.mark.slow
@needs_nginx
def test_the_case_and_status_pages_pass_through_nginx_without_a_referrer(stack):
    sent, office = complain_through_nginx(stack)
    case = urllib.parse.urlsplit(str(office["X-Complaint-Case-URL"]).strip())
    pages = {"case": fetch(stack.port, f"{case.path}?{case.query}"),
             "status": fetch(stack.port, "/status"),
             "wrong link": fetch(stack.port, "/case?token=wrong")}
    assert [r.status for r in pages.values()] == [200, 200, 404]
    for name, response in pages.items():
        assert response.headers.get_all("Referrer-Policy") == ["no-referrer"], name
        assert response.headers["X-Robots-Tag"].startswith("noindex"), name
        assert response.headers.get_all("Content-Security-Policy") == [
            SECURITY_HEADERS["Content-Security-Policy"]], name
    assert re.search(r'id="reference">([^<]+)<', sent.text).group(1) in pages["case"].text
    token = case.query.split("=", 1)[1]
    access_log = (stack.tmp / "access.log").read_text("utf-8")
    assert "GET /case " in access_log  # logged, without the token in its query string
    assert token not in access_log and token not in stack.gunicorn.output()


@pytest.mark.slow
@needs_nginx
def test_a_case_file_is_streamed_through_nginx_with_range_requests(stack, tmp_path):
    video = phone_video(tmp_path / "lift.mp4", 2 * MB, seconds=5).read_bytes()
    _, office = complain_through_nginx(stack, [("evidence", "IMG_0042.MP4", "video/mp4", video)])
    case = urllib.parse.urlsplit(str(office["X-Complaint-Case-URL"]).strip())
    path = f"/case/file?{case.query}&n=1"
    whole = fetch(stack.port, path)
    assert whole.status == 200 and whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = fetch(stack.port, path, headers={"Range": "bytes=1000000-1099999"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 1000000-1099999/{len(whole.body)}"
    assert part.body == whole.body[1000000:1100000]
    assert part.headers.get_all("Referrer-Policy") == ["no-referrer"]
    assert fetch(stack.port, path, headers={"Range": f"bytes={len(whole.body)}-"}).status == 416


def nginx_size(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", value.lower()).groups()
    return int(number) * {"": 1, "k": 1024, "m": MB, "g": 1024 * MB}[unit]


def test_nginx_and_the_app_agree_on_how_large_a_request_may_be():
    """The complaint's locations take the app's MAX_CONTENT_LENGTH, every other request the
    small limit the app holds them to; the 413 page says the app's limits."""
    from formserver.config import DEFAULTS, SMALL_REQUEST

    conf = (DEPLOY / "nginx" / "estate-common.conf").read_text("utf-8")
    conf = re.sub(r"#.*", "", conf)
    locations = re.findall(r"location\s+(?:=|\^~)?\s*(\S+)\s*\{([^}]*)\}", conf)
    outside = re.sub(r"location\s+[^{]*\{[^}]*\}", "", conf)
    [server_wide] = re.findall(r"client_max_body_size\s+(\S+);", outside)
    assert nginx_size(server_wide) == SMALL_REQUEST
    forms = [body for path, body in locations
             if re.fullmatch(r"(/zh-hans)?/complaint", path) and "proxy_pass" in body]
    assert forms, "no location passes the complaint form to the app"
    for body in forms:
        [size] = re.findall(r"client_max_body_size\s+(\S+);", body)
        assert nginx_size(size) == DEFAULTS["MAX_CONTENT_LENGTH"]
    others = [path for path, body in locations if "client_max_body_size" in body
              and "internal;" not in body]  # (the 413 page itself: reached from a 413 only)
    assert len(others) == len(forms), others
    page = (DEPLOY / "errors" / "413.html").read_text("utf-8")
    assert f"每個檔案最多 {DEFAULTS['MAX_FILE_SIZE'] // MB} MB" in page
    assert f"全部合共 {DEFAULTS['MAX_TOTAL_SIZE'] // MB} MB" in page


NGINX_LOCATION = re.compile(r"location\s+(=|\^~)?\s*(\S+)\s*\{([^}]*)\}")


def test_nginx_passes_every_route_of_the_app_to_it():
    """Each URL the app answers (but the built site's pages, which nginx serves itself) has a
    location that passes it on: a route added to the app, or its Simplified twin, is not a 404
    behind nginx."""
    from formserver import create_app

    conf = re.sub(r"#.*", "", (DEPLOY / "nginx" / "estate-common.conf").read_text("utf-8"))
    proxied = [(kind, path) for kind, path, body in NGINX_LOCATION.findall(conf)
               if "proxy_pass" in body]

    def passed(url: str) -> bool:
        return any(url == path if kind == "=" else url.startswith(path)
                   for kind, path in proxied if kind or path != "/")

    app = create_app({"TESTING": True, "SECRET_KEY": "test"})
    routes = {rule.rule for rule in app.url_map.iter_rules()
              if rule.endpoint not in ("site_page", "static")}
    assert any(route.startswith("/zh-hans/") for route in routes)
    assert [route for route in sorted(routes) if not passed(route)] == []


def test_the_simplified_413_page_is_the_traditional_one_converted():
    from formserver.editions import simplified

    traditional = (DEPLOY / "errors" / "413.html").read_text("utf-8")
    converted = simplified(traditional.replace('lang="zh-Hant"', 'lang="zh-Hans"'))
    converted = converted.replace('href="/', 'href="/zh-hans/')
    assert (DEPLOY / "errors" / "zh-hans" / "413.html").read_text("utf-8") == converted


def sparse_body(head: bytes, size: int):
    """A request body of `size` bytes, the form's fields then zeros, made as it is sent."""
    yield head
    piece, left = bytes(MB), size - len(head)
    while left > 0:
        yield piece[:left]
        left -= MB


@pytest.mark.slow
@needs_nginx
@pytest.mark.parametrize(("prefix", "chunked"), [("", False), ("", True), ("/zh-hans", False)],
                         ids=["content-length", "chunked", "simplified"])
def test_a_201_mb_complaint_gets_nginxs_friendly_413(stack, prefix, chunked):
    form = fetch(stack.port, f"{prefix}/complaint")
    fields = {**VALID_COMPLAINT, **Forms(form.text).hidden(f"{prefix}/complaint")}
    head, content_type = multipart(fields, [])
    size = 201 * MB + len(head)  # 201 MB of video and the form's fields
    headers = {"Content-Type": content_type, "Cookie": form.cookie()}
    if not chunked:  # (without Content-Length nginx finds out while reading)
        headers["Content-Length"] = str(size)
    response = fetch(stack.port, f"{prefix}/complaint", "POST", sparse_body(head, size), headers,
                     encode_chunked=chunked)
    assert response.status == 413
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = DEPLOY / "errors" / prefix.lstrip("/") / "413.html"
    assert response.body == page.read_bytes()
    assert ("上传的文件太大" if prefix else "上載的檔案太大") in response.text
    assert_security_headers(response, "413")


@pytest.mark.slow
@needs_nginx
def test_nginx_reads_a_whole_upload_before_a_worker_sees_it(stack):
    """Three phones on slow connections, half-way through their uploads, more than there are
    gunicorn workers (2): the form still opens at once, because nginx holds the bodies."""
    form = fetch(stack.port, "/complaint")
    body, content_type = multipart({**VALID_COMPLAINT, **Forms(form.text).hidden("/complaint")},
                                   [("evidence", "clip.mp4", "video/mp4", bytes(4 * MB))])
    uploads = []
    try:
        for _ in range(3):
            upload = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
            upload.sendall(f"POST /complaint HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                           f"{content_type}\r\nContent-Length: {len(body)}\r\nCookie: "
                           f"{form.cookie()}\r\n\r\n".encode() + body[: len(body) // 2])
            uploads.append(upload)
        deadline = time.monotonic() + 1.5  # the workers would be stuck by now without buffering
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert fetch(stack.port, "/complaint").status == 200
            assert time.monotonic() - started < 2, "a worker was held by a slow upload"
    finally:
        for upload in uploads:
            upload.close()


@pytest.mark.parametrize(("page", "lang"), [("413.html", "zh-Hant"),
                                            ("zh-hans/413.html", "zh-Hans")])
def test_the_413_page_needs_nothing_the_policy_forbids(page, lang):
    html = (DEPLOY / "errors" / page).read_text("utf-8")
    assert f'lang="{lang}"' in html
    assert "<style" not in html and "style=" not in html and "<script" not in html
    for href in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert href.startswith("/") and not href.startswith("//"), href


# --- the production file, with TLS ----------------------------------------------------------

def render_production(tmp: Path, cert_dir: Path, site: Path, app_port: int,
                      http_port: int | None = None, https_port: int | None = None) -> str:
    """deploy/nginx.conf with the example paths replaced by the test's (and, when asked for,
    loopback ports for 80 and 443)."""
    text = (DEPLOY / "nginx.conf").read_text("utf-8")
    replacements = {
        "/etc/letsencrypt/live/complaints.example.org/": f"{cert_dir}/",
        "/var/log/nginx/": f"{tmp}/",
        "/var/www/letsencrypt": str(tmp / "acme"),
        "/srv/estate-complaints/site": str(site),
        "/srv/estate-complaints/": f"{ROOT}/",
        "127.0.0.1:8000": f"127.0.0.1:{app_port}",
    }
    if http_port:
        replacements.update({"listen 80;": f"listen 127.0.0.1:{http_port};",
                             "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
                             "listen [::]:80;": "", "listen [::]:443 ssl http2;": ""})
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    directives = [line.split("#", 1)[0] for line in text.splitlines()]
    assert not [line for line in directives if "/srv/" in line or "/etc/letsencrypt" in line]
    return text


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("cert")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    return folder


@pytest.mark.slow
@needs_nginx
def test_the_production_file_passes_nginx_t(tmp_path, certificate, built_site):
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_main(tmp_path, render_production(tmp_path, certificate, built_site,
                                                           8000)), "utf-8")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                            "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr


@pytest.mark.slow
@needs_nginx
def test_the_production_file_serves_https_and_redirects_http(tmp_path, certificate, built_site,
                                                               gunicorn_app):
    _, app_port = gunicorn_app
    http_port, https_port = free_port(), free_port()
    nginx = start_nginx(tmp_path, render_production(tmp_path, certificate, built_site, app_port,
                                                    http_port, https_port),
                        [http_port, https_port])
    try:
        redirect = fetch(http_port, "/process/?x=1", headers={"Host": "estate.test"})
        assert redirect.status == 301
        assert redirect.headers["Location"] == "https://estate.test/process/?x=1"

        for path in ("/", "/complaint", "/no-such-page/"):
            response = fetch(https_port, path, tls=True)
            assert response.status == (404 if "no-such" in path else 200), path
            assert_security_headers(response, f"https {path}")
            assert response.headers.get_all("Strict-Transport-Security") == [
                "max-age=63072000; includeSubDomains"], path
    finally:
        nginx.stop()


# --- the systemd units --------------------------------------------------------------------------

def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def test_the_units_run_what_is_tested_here():
    web, deliver = unit("estate-complaints.service"), unit("estate-complaints-deliver.service")
    assert "gunicorn -c deploy/gunicorn.conf.py" in web["Service"]["ExecStart"]
    assert "deliver --loop" in deliver["Service"]["ExecStart"]
    assert deliver["Service"]["Restart"] == "always"
    for name, service in (("estate-complaints.service", web),
                          ("estate-complaints-deliver.service", deliver)):
        settings = service["Service"]
        environment = (DEPLOY / name).read_text("utf-8")
        assert "FORMSERVER_SERVE_SITE=false" in environment
        assert "FORMSERVER_DELIVER_IN_PROCESS=false" in environment
        assert settings["EnvironmentFile"] == "/etc/estate-complaints.env"
        assert settings["ProtectSystem"] == "strict"
        assert settings["ReadWritePaths"] == "/srv/estate-complaints/instance"
        assert settings["NoNewPrivileges"] == "true" and settings["PrivateTmp"] == "true"
        assert settings["User"] == "estate-complaints"


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    venv = Path(sys.prefix)
    for name in ("estate-complaints.service", "estate-complaints-deliver.service"):
        text = (DEPLOY / name).read_text("utf-8")
        text = text.replace("/srv/estate-complaints/.venv", str(venv))
        text = text.replace("/srv/estate-complaints", str(ROOT))
        text = text.replace("EnvironmentFile=/", "EnvironmentFile=-/")
        (tmp_path / name).write_text(text, "utf-8")
    result = subprocess.run([analyze, "verify", *map(str, sorted(tmp_path.glob("*.service")))],
                            capture_output=True, text=True, timeout=60)
    if "Failed to" in result.stderr and "bus" in result.stderr.lower():
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert "estate-complaints" not in result.stderr, result.stderr


# --- gunicorn's access log and the rate limits, with several workers ----------------------------

@pytest.mark.slow
def test_control_characters_in_a_path_never_reach_gunicorns_log_raw(gunicorn_app):
    """%0d%0a in a path would write a forged line into the log, %1b terminal commands."""
    process, port = gunicorn_app
    forged = '127.0.0.1 - - "GET /forged HTTP/1.1" 200'
    path = "/complaint%0d%0a" + urllib.parse.quote(forged) + "%1b[2J%00"
    assert fetch(port, path).status == 404
    deadline = time.monotonic() + 5
    while "/forged" not in process.output() and time.monotonic() < deadline:
        time.sleep(0.05)  # gunicorn writes the line as the request ends
    log = process.output()
    [line] = [line for line in log.splitlines() if "/forged" in line]
    assert line.startswith('"GET /complaint\\x0d\\x0a'), line
    assert "\x1b" not in log and "\x00" not in log and not line.startswith(forged)


@pytest.mark.slow
def test_the_receipt_and_submission_limits_hold_across_workers_and_restarts(
        tmp_path, built_site, mail_server, redis_server):
    """Three workers, the deployment's shared store, a restart in the middle: one address
    gets its two receipts a day and no more; one client its five accepted submissions an
    hour, however many forms it had sent back for a mistake (422s do not count)."""
    mail = SimpleNamespace(host="127.0.0.1", port=mail_server.port)
    server = gunicorn_service(tmp_path, mail, built_site, 3, ACKNOWLEDGEMENTS_PER_DAY=2,
                              SUBMISSION_RATE_LIMIT="5/hour", RATELIMIT_STORAGE_URI=redis_server)
    port = server.port

    def submit(**changes) -> int:
        browser = Browser(port)
        form = hidden_inputs(browser.request("GET", "/complaint")[2])
        status, _, _ = browser.post("/complaint", {**VALID_COMPLAINT, **form, **changes})
        if status == 303:
            review = browser.request("GET", "/complaint/review")[2]
            assert browser.post("/complaint/send", send_form_fields(review))[0] == 303
        return status

    try:
        server.start()
        assert [submit() for _ in range(3)] == [303] * 3
        assert [submit(name="") for _ in range(4)] == [422] * 4
        server.stop()
        server.start()
        assert [submit() for _ in range(3)] == [303, 303, 429]
    finally:
        server.stop()
    receipts = list((tmp_path / "spool" / "new").glob("*.ack.eml"))
    assert len(receipts) == 2, server.output()
