"""The messages: built from a complaint and the configuration, pure functions with their own
templates (formserver/templates/email/); no app or request is needed. senders.py sends them."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .access import status_url
from .complaint import Complaint
from .editions import add_filters, for_edition, simplified_data, simplified_environment
from .evidence import Evidence
from .guidance import reminder
from .sanitize import one_line
from .workdays import next_working_day

TEMPLATES = Path(__file__).parent / "templates"


@cache
def templates(edition: str = "hant") -> Environment:
    """The email templates, escaped in HTML and left as they are in text (as Flask does); in
    Simplified for a resident who wrote in the Simplified edition."""
    traditional = Environment(loader=FileSystemLoader(TEMPLATES),
                              autoescape=select_autoescape(["html"]))
    add_filters(traditional)
    return simplified_environment(traditional) if edition == "hans" else traditional


def render(name: str, edition: str = "hant", **context) -> str:
    """A message's text; to a resident in their edition's script (site facts included)."""
    if edition == "hans" and "site" in context:
        context["site"] = simplified_data(context["site"])
    return templates(edition).get_template(name).render(**context)


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


def mail_address(value: str) -> str:
    """A resident's address as it goes into a header and the envelope: an international
    domain in its ASCII (punycode) form; a non-ASCII local part stays (it needs SMTPUTF8)."""
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return value  # the form let only valid ones through; the sender refuses the rest
    return checked.ascii_email or f"{checked.local_part}@{checked.ascii_domain}"


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


def complaint_json(complaint: Complaint, files: list[Listed]) -> bytes:
    record = {
        "reference": complaint.reference,
        "submitted_at": complaint.submitted_at.isoformat(),
        "reply_due": complaint.reply_due.isoformat(),
        "recipient": complaint.recipient,
        "respondent": complaint.respondent or None,
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
        "evidence": [{"file": f.name, "type": f.item.mime_type, "kind": f.item.family,
                      "size": f.item.size, "duration": f.item.duration,
                      "sha256": f.item.sha256, "captured_at": f.item.captured_at,
                      "attached": f.attached, "url": f.url or None}
                     for f in files],
    }
    return json.dumps(record, ensure_ascii=False, indent=2).encode()


def attachment_names(complaint: Complaint) -> list[tuple[str, object]]:
    """Neutral names, never the resident's own file names."""
    return [(f"evidence-{number}.{item.ext}", item)
            for number, item in enumerate(complaint.evidence, 1)]


@dataclass(frozen=True)
class Listed:
    """An evidence file as the office's email gives it: attached, or linked when it would
    make the email too large for the mail servers."""

    name: str  # neutral: evidence-1.mp4
    item: Evidence
    attached: bool
    url: str = ""  # its download link on the case page


@dataclass(frozen=True)
class Outgoing:
    """A message whose evidence is read and base64-encoded only as it is written out. The
    standard email package holds several encoded copies of an attachment (3.5x its size while
    adding it, 4x more while flattening); this holds none: the parts carry a placeholder
    each, and a file is read from where it is kept (a draft's sealed file) 57 KiB at a time."""

    message: EmailMessage
    files: dict[bytes, Evidence]  # placeholder -> the attached file
    listed: tuple[Listed, ...] = ()

    def chunks(self) -> Iterator[bytes]:
        raw = self.message.as_bytes()  # small: the placeholders stand in for the files
        for piece in PLACEHOLDER.split(raw):
            if piece in self.files:
                yield from base64_lines(self.files[piece].chunks())
            else:
                yield piece

    def as_bytes(self) -> bytes:
        return b"".join(self.chunks())

    @property
    def size(self) -> int:
        """The length of the message as written out, without encoding a file."""
        raw = len(self.message.as_bytes())
        return raw + sum(encoded_size(item.size) - len(placeholder)
                         for placeholder, item in self.files.items())


PLACEHOLDER = re.compile(rb"(@@evidence-[0-9a-f]{32}@@\r\n)")
BASE64_STEP = 57 * 1024  # 57 bytes make one 76-character line
# An attachment's own MIME headers and boundary (about 200 bytes), with room to spare.
PART_HEADERS = 1024


def encoded_size(size: int) -> int:
    """The length of base64_lines' output for a file of this size."""
    return 4 * -(-size // 3) + 2 * -(-size // 57)


def base64_lines(chunks: Iterable[bytes], linesep: bytes = b"\r\n") -> Iterator[bytes]:
    """Base64 in 76-character lines, from a file read in pieces of any size."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= BASE64_STEP:
            whole = len(buffer) // BASE64_STEP * BASE64_STEP
            yield base64.encodebytes(buffer[:whole]).replace(b"\n", linesep)
            del buffer[:whole]
    if buffer:
        yield base64.encodebytes(bytes(buffer)).replace(b"\n", linesep)


def listed_files(complaint: Complaint, file_urls: list[str], room: int) -> list[Listed]:
    """Each file in order attached while the message stays within `room` bytes (what the
    message takes without attachments subtracted); the others linked."""
    listed = []
    for (name, item), url in zip(attachment_names(complaint), file_urls, strict=True):
        cost = encoded_size(item.size) + PART_HEADERS
        attached = cost <= room
        room -= cost if attached else 0
        listed.append(Listed(name, item, attached, url))
    return listed


def build_message(complaint: Complaint, config, case_url: str = "",
                  file_urls: Iterable[str] = ()) -> Outgoing:
    """The email to the office (or the committee): text and HTML, the evidence attached in
    order while the message stays within MAIL_MAX_BYTES, the other files listed with their
    download links (file_urls, one per file, on the case page); case_url, the link to the
    case page, on a line of its own and in X-Complaint-Case-URL."""
    urls = list(file_urls) or [""] * len(complaint.evidence)
    names = attachment_names(complaint)
    linked = [Listed(name, item, False, url) for (name, item), url in zip(names, urls, strict=True)]
    # Listing every file as linked gives the longest text: the room left is a lower bound.
    room = config["MAIL_MAX_BYTES"] - compose(complaint, config, case_url, linked).size
    return compose(complaint, config, case_url, listed_files(complaint, urls, room))


def compose(complaint: Complaint, config, case_url: str, listed: list[Listed]) -> Outgoing:
    to, cc = office_addresses(complaint, config)
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = (f"[投訴 {complaint.reference}] {complaint.category_label} | "
                      f"{header_text(complaint.subject)}")
    msg["From"] = config["MAIL_FROM"]
    staging_note = address(msg, to, cc, config)
    reply_to = mail_address(complaint.email) if complaint.email else ""
    if reply_to and reply_to.isascii() and not complaint.anonymized:
        # (A non-ASCII local part would need SMTPUTF8 for the office's copy; it is in the body.)
        msg["Reply-To"] = reply_to
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
    if case_url:
        msg["X-Complaint-Case-URL"] = case_url
    msg["Auto-Submitted"] = "auto-generated"
    context = {"complaint": complaint, "files": listed, "case_url": case_url,
               "site": config["SITE"], "region": config["REGION"], "staging_note": staging_note,
               "guidance": reminder(complaint.category, config["SITE"].get("base_url", ""))}
    msg.set_content(render("email/complaint.txt", **context))
    msg.add_alternative(render("email/complaint.html", **context), subtype="html")
    files = {}
    for entry in listed:
        if not entry.attached:
            continue
        maintype, subtype = entry.item.mime_type.split("/")
        msg.add_attachment(b"", maintype=maintype, subtype=subtype, filename=entry.name)
        placeholder = f"@@evidence-{secrets.token_hex(16)}@@"
        msg.get_payload()[-1].set_payload(placeholder)
        files[placeholder.encode() + b"\r\n"] = entry.item
    msg.add_attachment(complaint_json(complaint, listed), maintype="application",
                       subtype="json", filename="complaint.json")
    return Outgoing(msg, files, tuple(listed))


def build_acknowledgement(complaint: Complaint, to: str, config,
                          access_code: str = "", edition: str = "hant") -> EmailMessage:
    """A fixed receipt to the resident, with the access code for the status page. It never
    echoes their free text, so the form cannot be used to send anyone's words to any address.
    An address with a non-ASCII local part goes raw in UTF-8 (RFC 6532), for a server that
    offers SMTPUTF8."""
    to = mail_address(to)
    msg = EmailMessage(policy=policy.SMTP if to.isascii() else policy.SMTPUTF8)
    msg["Subject"] = for_edition(f"已收到您的投訴（編號 {complaint.reference}）", edition)
    msg["From"] = config["MAIL_FROM"]
    staging_note = address(msg, [to], [], config)
    msg["Date"] = format_datetime(complaint.submitted_at)
    msg["Message-ID"] = message_id(complaint.reference, config["MAIL_FROM"], "ack")
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(staging_note + render("email/acknowledgement.txt", edition,
                                          complaint=complaint, site=config["SITE"],
                                          access_code=access_code,
                                          status_url=status_url(config, edition)))
    return msg


def build_follow_up(reference: str, number: int, reason: str, details: str, now: datetime,
                    name: str, config, *, anonymized: bool = False,
                    case_url: str = "") -> EmailMessage:
    """A follow-up (複查與監督) to the office and the committee, in the original's thread.
    A follow-up to a de-identified complaint is marked so (its details already redacted)."""
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
    msg["X-Complaint-Anonymized"] = "yes" if anonymized else "no"
    msg["X-Complaint-Files"] = "0"
    if case_url:
        msg["X-Complaint-Case-URL"] = case_url
    msg["Auto-Submitted"] = "auto-generated"
    context = {"reference": reference, "number": number, "reason": reason, "details": details,
               "anonymized": anonymized, "case_url": case_url,
               "now": now, "site": config["SITE"], "staging_note": staging_note,
               "reply_due": next_working_day(now.date(), config["REGION"]),
               "guidance": reminder("", config["SITE"].get("base_url", ""))}
    msg.set_content(render("email/follow_up.txt", **context))
    return msg
