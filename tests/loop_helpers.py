"""Helpers for the tests of the case (the loop) and its files: what the resident, the office
and the mail server see. Plain functions; the fixtures stay in conftest.py."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

from helpers import (
    INSTANCE_PATHS,
    ROOT,
    VALID_COMPLAINT,
    hidden_fields,
    multipart,
    send_reviewed,
    submit,
)

from formserver import delivery


def confirmation(client, **changes) -> tuple[str, str]:
    """Send a complaint; the reference and the access code the confirmation page shows."""
    response = submit(client, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    page = client.get("/complaint/sent").get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', page).group(1)
    code = re.search(r'id="access-code">([^<]+)<', page).group(1)
    return reference, code


def local_path(url: str) -> str:
    """A link from an email, as the test client opens it (the site's host is not running)."""
    parts = urlsplit(url.strip())
    return parts.path + (f"?{parts.query}" if parts.query else "")


def deliver(app, smtp_server) -> list:
    """One delivery round; every message the mail server has received so far, parsed."""
    delivery.deliver_once(app.config)
    return smtp_server.handler.parsed()


def to(messages, address: str) -> list:
    return [m for m in messages if address in str(m["To"]) + str(m["Cc"] or "")]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def case_path(message) -> str:
    return local_path(str(message["X-Complaint-Case-URL"]))


def csrf(page_html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_html).group(1)


def step_of(page_html: str) -> str:
    return html.unescape(re.search(r'name="step" type="hidden" value="([^"]+)"',
                                   page_html).group(1))


def token_of(path: str) -> str:
    return path.split("token=", 1)[1]


def ask(client, path: str, action: str, message: str = "", handled_by: str = ""):
    """The case page's first step: the confirmation page (or the page with its errors)."""
    page = client.get(path).get_data(as_text=True)
    return client.post("/case", data={"csrf_token": csrf(page), "token": token_of(path),
                                      "action": action, "message": message,
                                      "handled_by": handled_by})


def act(client, path: str, action: str, message: str = "", handled_by: str = ""):
    """An action on the case page, confirmed: the response to the confirmation."""
    confirm = ask(client, path, action, message, handled_by)
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[:800]
    page = confirm.get_data(as_text=True)
    return client.post("/case/confirm", data={"csrf_token": csrf(page), "token": token_of(path),
                                              "step": step_of(page)})


def look_up(client, reference: str, code: str):
    page = client.get("/status").get_data(as_text=True)
    return client.post("/status", data={"csrf_token": csrf(page), "reference": reference,
                                        "access_code": code})


def follow_up(client, reference: str, code: str, **changes):
    data = {"reference": reference, "access_code": code, "reason": "no_reply",
            "details": "兩個工作日過去仍未有回覆。", **hidden_fields(client, "/follow-up"),
            **changes}
    return client.post("/follow-up", data=data)


def form_fields(page_html: str, action: str) -> dict[str, str]:
    """The named inputs of the form posting to `action`, as a browser would send them
    (hidden and text inputs, the checked radio, the textarea)."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page_html,
                     re.S).group(0)
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or ('type="radio"' in tag and "checked" not in tag):
            continue
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form,
                                 re.S):
        fields[name] = html.unescape(text).strip()
    return fields


# --- complaints with files, and the office's email that carries or links them ---------------------

def office_email(app, smtp_server):
    [message] = to(deliver(app, smtp_server), "office@estate.test")
    return message


def attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def record_of(message) -> dict:
    return json.loads(attachments(message)["complaint.json"])


def file_path(message, number: int) -> str:
    return case_path(message).replace("/case?", "/case/file?") + f"&n={number}"


def post_files(client, *files, prefix="", **changes):
    """The form with these (file name, bytes, MIME type) files, as a browser sends it (the
    test client would leave a large file's temporary copy open); prefix: "/zh-hans"."""
    fields = {**VALID_COMPLAINT, **hidden_fields(client, f"{prefix}/complaint"), "email": "",
              **changes}
    body, content_type = multipart({k: v for k, v in fields.items() if v is not None},
                                   [("evidence", name, mime, data) for name, data, mime in files])
    return client.post(f"{prefix}/complaint", data=body, content_type=content_type)


def complaint_with(client, *files, **changes):
    """Send a complaint with these (file name, bytes, MIME type) files."""
    response = post_files(client, *files, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    assert send_reviewed(client).status_code == 303


# --- the real deliverer ---------------------------------------------------------------------------

def deliver_at(when: datetime, app, smtp_server, built_site) -> subprocess.CompletedProcess:
    """`flask --app formserver deliver`, as the systemd unit runs it, with the clock at `when`
    (libfaketime)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSERVER_")}
    for key in ("SECRET_KEY", "MAIL_FROM", "OFFICE_EMAIL", "COMMITTEE_EMAIL", *INSTANCE_PATHS):
        env[f"FORMSERVER_{key}"] = str(app.config[key])
    env.update(FORMSERVER_SMTP_HOST=smtp_server.host, FORMSERVER_SMTP_PORT=str(smtp_server.port),
               FORMSERVER_SITE_DIR=str(built_site), TZ="UTC", FAKETIME_DONT_FAKE_MONOTONIC="1")
    utc = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return subprocess.run(["faketime", "-f", f"@{utc}", sys.executable, "-m", "flask", "--app",
                           "formserver", "deliver"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
