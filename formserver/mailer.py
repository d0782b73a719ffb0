"""Email: build the messages (pure functions) and hand them to SMTP or a local Maildir."""

from __future__ import annotations

import base64
import json
import logging
import mailbox
import re
import secrets
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path

from flask import render_template

from .complaints import Complaint, next_working_day
from .guidance import reminder
from .sanitize import one_line
from .spool import PermanentFailure, ServerUnavailable, TemporaryFailure

log = logging.getLogger(__name__)


def header_text(value: str) -> str:
    """Text typed by a resident, made safe for a header: one line, and no "=?" — Python's
    email package decodes encoded words in values it is given, which could smuggle in CR/LF
    and a whole new header (a Bcc) through a subject like '=?utf-8?b?DQpCY2M6...?='."""
    return one_line(value).replace("=?", "= ?")


def message_id(reference: str, mail_from: str, kind: str = "") -> str:
    """Stable for a reference, so a message sent twice after a crash is the same message."""
    domain = mail_from.rpartition("@")[2] or "localhost"
    return f"<{reference}{'.' + kind if kind else ''}@{domain}>"


def routed(recipient: str, category: str, config) -> list[str]:
    """The addresses of a recipient for a category, from ROUTES, else its single address."""
    table = config["ROUTES"].get(recipient, {})
    fallback = config["OFFICE_EMAIL" if recipient == "office" else "COMMITTEE_EMAIL"]
    return list(table.get(category) or table.get("default") or [fallback])


def office_addresses(complaint: Complaint, config) -> tuple[list[str], list[str]]:
    """(To, Cc): the chosen recipient; a follow-up also copies the owners' committee."""
    to = routed(complaint.recipient, complaint.category, config)
    cc = []
    if complaint.follow_up_ref and complaint.recipient != "committee":
        cc = [a for a in routed("committee", complaint.category, config) if a not in to]
    return to, cc


def address(msg: EmailMessage, to: list[str], cc: list[str], config) -> str:
    """Set To and Cc; in staging, send to STAGING_EMAIL and return a note of the intended ones."""
    if config["STAGING_EMAIL"]:
        msg["To"] = config["STAGING_EMAIL"]
        intended = "、".join(to) + (f"（副本：{'、'.join(cc)}）" if cc else "")
        return f"【測試環境】這封郵件原本會寄給：{intended}\n\n"
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    return ""


def complaint_json(complaint: Complaint) -> bytes:
    record = {
        "reference": complaint.reference,
        "submitted_at": complaint.submitted_at.isoformat(),
        "reply_due": complaint.reply_due.isoformat(),
        "recipient": complaint.recipient,
        "category": complaint.category,
        "anonymized": complaint.anonymized,
        "follow_up_ref": complaint.follow_up_ref or None,
        "resident": {"name": complaint.name, "unit": complaint.unit,
                     "phone": complaint.phone or None, "email": complaint.email or None},
        "subject": complaint.subject,
        "description": complaint.description,
        "occurred_at": complaint.occurred_at.isoformat() if complaint.occurred_at else None,
        "location": complaint.location,
        "impact": complaint.impact or None,
        "expected_resolution": complaint.expected_resolution,
        "evidence": [{"file": name, "type": item.mime_type, "sha256": item.sha256,
                      "captured_at": item.captured_at}
                     for name, item in attachment_names(complaint)],
    }
    return json.dumps(record, ensure_ascii=False, indent=2).encode()


def attachment_names(complaint: Complaint) -> list[tuple[str, object]]:
    """Neutral names, never the resident's own file names."""
    return [(f"evidence-{number}.{item.ext}", item)
            for number, item in enumerate(complaint.evidence, 1)]


@dataclass(frozen=True)
class Outgoing:
    """A message whose evidence is base64-encoded only as it is written out. The standard
    email package holds several encoded copies of an attachment (3.5x its size while adding
    it, 4x more while flattening); this holds none: the parts carry a placeholder each."""

    message: EmailMessage
    files: dict[bytes, bytes]  # placeholder -> the file's bytes

    def chunks(self) -> Iterator[bytes]:
        raw = self.message.as_bytes()  # small: the placeholders stand in for the files
        for piece in PLACEHOLDER.split(raw):
            if piece in self.files:
                yield from base64_lines(self.files[piece])
            else:
                yield piece

    def as_bytes(self) -> bytes:
        return b"".join(self.chunks())


PLACEHOLDER = re.compile(rb"(@@evidence-[0-9a-f]{32}@@\r\n)")


def base64_lines(data: bytes, linesep: bytes = b"\r\n") -> Iterator[bytes]:
    step = 57 * 1024  # 57 bytes make one 76-character line
    for start in range(0, len(data), step):
        yield base64.encodebytes(data[start : start + step]).replace(b"\n", linesep)


def build_message(complaint: Complaint, config) -> Outgoing:
    """The email to the office (or the committee): text and HTML, the evidence attached."""
    to, cc = office_addresses(complaint, config)
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = (f"[投訴 {complaint.reference}] {complaint.category_label} | "
                      f"{header_text(complaint.subject)}")
    msg["From"] = config["MAIL_FROM"]
    staging_note = address(msg, to, cc, config)
    if complaint.email and not complaint.anonymized:
        msg["Reply-To"] = complaint.email
    msg["Date"] = format_datetime(complaint.submitted_at)
    msg["Message-ID"] = message_id(complaint.reference, config["MAIL_FROM"])
    if complaint.follow_up_ref:
        earlier = message_id(complaint.follow_up_ref, config["MAIL_FROM"])
        msg["In-Reply-To"] = earlier
        msg["References"] = earlier
    msg["X-Complaint-Reference"] = complaint.reference
    # Facts without personal data, for helpdesk filters and the anonymous statistics.
    msg["X-Complaint-Kind"] = "follow-up" if complaint.follow_up_ref else "complaint"
    msg["X-Complaint-Category"] = complaint.category
    msg["X-Complaint-Recipient"] = complaint.recipient
    msg["X-Complaint-Anonymized"] = "yes" if complaint.anonymized else "no"
    msg["X-Complaint-Files"] = str(len(complaint.evidence))
    msg["Auto-Submitted"] = "auto-generated"
    context = {"complaint": complaint, "attachments": attachment_names(complaint),
               "site": config["SITE"], "staging_note": staging_note,
               "guidance": reminder(complaint.category, config["SITE"].get("base_url", ""))}
    msg.set_content(render_template("email/complaint.txt", **context))
    msg.add_alternative(render_template("email/complaint.html", **context), subtype="html")
    files = {}
    for name, item in attachment_names(complaint):
        maintype, subtype = item.mime_type.split("/")
        msg.add_attachment(b"", maintype=maintype, subtype=subtype, filename=name)
        placeholder = f"@@evidence-{secrets.token_hex(16)}@@"
        msg.get_payload()[-1].set_payload(placeholder)
        files[placeholder.encode() + b"\r\n"] = item.data
    msg.add_attachment(complaint_json(complaint), maintype="application", subtype="json",
                       filename="complaint.json")
    return Outgoing(msg, files)


def build_acknowledgement(complaint: Complaint, to: str, config) -> EmailMessage:
    """A fixed receipt to the resident. It never echoes their free text, so the form cannot
    be used to send anyone's words to any address."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = f"已收到您的投訴（編號 {complaint.reference}）"
    msg["From"] = config["MAIL_FROM"]
    staging_note = address(msg, [to], [], config)
    msg["Date"] = format_datetime(complaint.submitted_at)
    msg["Message-ID"] = message_id(complaint.reference, config["MAIL_FROM"], "ack")
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(staging_note + render_template("email/acknowledgement.txt",
                                                   complaint=complaint, site=config["SITE"]))
    return msg


def build_follow_up(reference: str, number: int, reason: str, details: str, now: datetime,
                    name: str, config) -> EmailMessage:
    """A follow-up (復查與監督) to the office and the committee, in the original's thread."""
    to, cc = routed("office", "", config), routed("committee", "", config)
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = f"[投訴 {reference}] 跟進（第 {number} 次）| {reason}"
    msg["From"] = config["MAIL_FROM"]
    staging_note = address(msg, to, [a for a in cc if a not in to], config)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(name, config["MAIL_FROM"])
    earlier = message_id(reference, config["MAIL_FROM"])
    msg["In-Reply-To"] = earlier
    msg["References"] = earlier
    msg["X-Complaint-Reference"] = reference
    msg["X-Complaint-Kind"] = "follow-up"
    msg["X-Complaint-Category"] = "follow-up"
    msg["X-Complaint-Recipient"] = "office+committee"
    msg["X-Complaint-Anonymized"] = "no"
    msg["X-Complaint-Files"] = "0"
    msg["Auto-Submitted"] = "auto-generated"
    context = {"reference": reference, "number": number, "reason": reason, "details": details,
               "now": now, "site": config["SITE"], "staging_note": staging_note,
               "reply_due": next_working_day(now.date(), config["REGION"]),
               "guidance": reminder("", config["SITE"].get("base_url", ""))}
    msg.set_content(render_template("email/follow_up.txt", **context))
    return msg


def envelope(data: bytes) -> tuple[str, list[str]]:
    head = data.split(b"\r\n\r\n", 1)[0]  # parsing the whole body would cost more than sending
    headers = BytesParser(policy=policy.SMTP).parsebytes(head, headersonly=True)
    recipients = []
    for name in ("To", "Cc"):
        for address in headers.get_all(name, []):
            recipients.extend(a.addr_spec for a in address.addresses)
    return str(headers["From"].addresses[0].addr_spec), recipients


class SMTPSender:
    """Sends spooled messages over one SMTP connection for a whole delivery round, turning
    errors into temporary or permanent ones. Any error drops the connection; the next message
    opens a fresh one."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        config = self.config
        host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
        timeout = float(config["SMTP_TIMEOUT"])
        if config["SMTP_SECURITY"] == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if config["SMTP_SECURITY"] == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            with suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp.close()
            self.smtp = None

    def __call__(self, data: bytes) -> None:
        sender, recipients = envelope(data)
        reused = self.smtp is not None
        try:
            try:
                refused = self.send_on_open_connection(sender, recipients, data)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server may close a connection it found idle: one retry on a fresh one.
                self.close()
                refused = self.send_on_open_connection(sender, recipients, data)
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            # A wrong password is the server's configuration, not the message: keep retrying.
            raise TemporaryFailure(f"authentication failed ({error.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            codes = [code for code, _ in error.recipients.values()]
            raise classify(min(codes), "all recipients refused") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise classify(error.smtp_code, error.smtp_error) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, timed out
            self.close()
            detail = f": {error}" if str(error) else ""
            raise TemporaryFailure(type(error).__name__ + detail) from None
        if refused:  # others accepted it, so it is delivered; the refusals need a person
            codes = sorted({code for code, _ in refused.values()})
            log.warning("%d recipient(s) refused a message (%s)", len(refused), codes)

    def send_on_open_connection(self, sender: str, recipients: list[str], data: bytes) -> dict:
        if self.smtp is None:
            try:
                self.smtp = self.connect()
            except (smtplib.SMTPException, OSError) as error:  # refused, banner, TLS, login
                detail = f": {error}" if str(error) else ""
                raise ServerUnavailable(type(error).__name__ + detail) from None
        return self.smtp.sendmail(sender, recipients, data)


def classify(code: int, text) -> Exception:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = f"{code} {str(text)[:200]}"
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


def maildir_sender(path: Path) -> Callable[[bytes], None]:
    """The embedded default: deliver into a Maildir that any mail client can open."""

    def send(data: bytes) -> None:
        try:
            mailbox.Maildir(path, create=True).add(data)
        except OSError as error:
            raise TemporaryFailure(f"Maildir: {error.strerror}") from None

    return send


@contextmanager
def sender_for(config) -> Iterator[Callable[[bytes], None]]:
    """What sends spooled messages during one delivery round: SMTP, or the Maildir."""
    if not config["SMTP_HOST"]:
        yield maildir_sender(Path(config["MAILDIR"]))
        return
    sender = SMTPSender(config)
    try:
        yield sender
    finally:
        sender.close()

