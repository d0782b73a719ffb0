"""Sending: spooled messages over SMTP (one connection per delivery round), or into a local
Maildir when no mail server is configured. Errors become temporary or permanent failures."""

from __future__ import annotations

import io
import logging
import mailbox
import re
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email import policy
from email.parser import Parser
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from .logtext import without_addresses
from .spool import PermanentFailure, ServerUnavailable, TemporaryFailure, head_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipients: list[str]
    smtputf8: bool  # an address with a non-ASCII local part: only for servers that offer it


def envelope(data: bytes) -> Envelope:
    """From, To and Cc as the SMTP envelope needs them: checked, each domain in its ASCII
    (punycode) form. An address that is not one is a permanent failure of this message."""
    head = head_of(data)  # parsing the whole body would cost more than sending
    # As UTF-8 (RFC 6532): a receipt to a non-ASCII address has it raw in its To header.
    headers = Parser(policy=policy.SMTPUTF8).parsestr(head.decode("utf-8", "replace"),
                                                      headersonly=True)
    try:
        found = [a.addr_spec for name in ("From", "To", "Cc")
                 for value in headers.get_all(name, []) for a in value.addresses]
    except (AttributeError, TypeError, ValueError):
        found = []
    if len(headers.get_all("From", [])) != 1 or len(found) < 2:
        raise PermanentFailure("the message has no sender or no recipient")
    addresses = [smtp_address(address) for address in found]
    return Envelope(addresses[0], addresses[1:],
                    any(not address.isascii() for address in addresses))


def smtp_address(address: str) -> str:
    """ASCII addresses as they are (the configured ones were checked at start-up, residents'
    by the form); any other checked again, its domain in punycode."""
    if address.isascii():
        return address
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise PermanentFailure("an address of the message is not valid") from None
    return checked.ascii_email or f"{checked.local_part}@{checked.ascii_domain}"


SLICE = 64 * 1024
LINE_START_DOT = re.compile(rb"(?m)^\.")


def dot_stuffed(data: bytes) -> Iterator[bytes]:
    """The message as DATA sends it (a "." doubled at the start of a line), in slices of
    about 64 KiB, each starting at a line's start: no copy of the whole message is made."""
    start = 0
    while start < len(data):
        end = data.find(b"\n", min(start + SLICE, len(data)) - 1)
        end = len(data) if end == -1 else end + 1
        yield LINE_START_DOT.sub(b"..", data[start:end])
        start = end


class SlicedData:
    """smtplib's DATA, sent a slice at a time: the standard one makes three whole copies of
    a message to dot-stuff and terminate it (36 MB for a 9 MB email)."""

    def data(self, msg: bytes):
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        for piece in dot_stuffed(msg):
            self.send(piece)
        self.send(b".\r\n" if msg.endswith(b"\r\n") else b"\r\n.\r\n")
        return self.getreply()


class SMTP(SlicedData, smtplib.SMTP):
    pass


class SMTPS(SlicedData, smtplib.SMTP_SSL):
    pass


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
            smtp = SMTPS(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = SMTP(host, port, timeout=timeout)
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
        mail = envelope(data)
        reused = self.smtp is not None
        try:
            try:
                refused = self.send_on_open_connection(mail, data)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server may close a connection it found idle: one retry on a fresh one.
                self.close()
                refused = self.send_on_open_connection(mail, data)
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            # A wrong password is the server's configuration, not the message: keep retrying.
            raise TemporaryFailure(f"authentication failed ({error.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            codes = [code for code, _ in error.recipients.values()]
            raise classify(min(codes), "all recipients refused", mail) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            raise classify(error.smtp_code, error.smtp_error, mail) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, timed out
            self.close()
            detail = f": {without_addresses(str(error), mail.recipients)}" if str(error) else ""
            raise TemporaryFailure(type(error).__name__ + detail) from None
        except (PermanentFailure, TemporaryFailure):
            raise
        except BaseException:  # anything else: this connection is in an unknown state
            self.close()
            raise
        if refused:  # others accepted it, so it is delivered; the refusals need a person
            codes = sorted({code for code, _ in refused.values()})
            log.warning("%d recipient(s) refused a message (%s)", len(refused), codes)

    def send_on_open_connection(self, mail: Envelope, data: bytes) -> dict:
        if self.smtp is None:
            try:
                self.smtp = self.connect()
            except (smtplib.SMTPException, OSError) as error:  # refused, banner, TLS, login
                detail = f": {error}" if str(error) else ""
                raise ServerUnavailable(type(error).__name__ + detail) from None
        options = []
        if mail.smtputf8:
            self.smtp.ehlo_or_helo_if_needed()
            if not self.smtp.has_extn("smtputf8"):
                raise PermanentFailure("the recipient's address has non-ASCII characters before "
                                       "the @, and the mail server does not offer SMTPUTF8")
            options = ["SMTPUTF8"]
        return self.smtp.sendmail(mail.sender, mail.recipients, data, mail_options=options)


def classify(code: int, text, mail: Envelope) -> Exception:
    """A reply as a temporary or permanent failure, without the addresses it may name."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = f"{code} {without_addresses(str(text), [mail.sender, *mail.recipients])[:200]}"
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


def maildir_sender(path: Path) -> Callable[[bytes], None]:
    """The embedded default: deliver into a Maildir that any mail client can open."""

    def send(data: bytes) -> None:
        try:  # (as a file: read line by line, where bytes would be copied whole)
            mailbox.Maildir(path, create=True).add(io.BytesIO(data))
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
