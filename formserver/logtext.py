"""What may go into a log (the journal keeps it for weeks): where an error happened but never
its message, a request path with its control characters escaped (no forged log lines), and a
mail server's reply without anyone's address."""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable

ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;]+")
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\"\\]")


def where(error: BaseException) -> str:
    """file:line function of each frame, innermost first: where, never what (an error's
    message and locals may hold what a resident typed)."""
    return " < ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                      for frame in reversed(traceback.extract_tb(error.__traceback__)))


def printable(text: str) -> str:
    """Control characters (CR, LF, ESC ...), quotes and backslashes as \\xNN: one log line
    stays one line, with nothing a terminal would act on."""
    return UNPRINTABLE.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def without_addresses(text: str, addresses: Iterable[str] = ()) -> str:
    """A mail server's reply with every address in it, and the local part of each address
    given (servers also write "user chan.taiman unknown"), replaced by <address>."""
    text = ADDRESS.sub("<address>", text)
    for address in addresses:
        local = address.rpartition("@")[0]
        if len(local) >= 3:
            text = re.sub(re.escape(local), "<address>", text, flags=re.IGNORECASE)
    return text
