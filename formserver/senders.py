"""Sending: spooled messages over SMTP (one connection per delivery round), or into a local
Maildir when no mail server is configured. Errors become temporary or permanent failures."""

from __future__ import annotations

import logging
import mailbox
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from email import policy
from email.parser import BytesParser
from pathlib import Path

from .spool import PermanentFailure, ServerUnavailable, TemporaryFailure

log = logging.getLogger(__name__)


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
