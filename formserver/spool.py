"""A durable queue of outgoing email on disk, the Maildir way.

    tmp/     a message being written (never read by the deliverer; what a killed writer left
             there is deleted after an hour)
    new/     complete messages waiting to be sent; NAME.eml, and NAME.state after a failure
    failed/  messages set aside with the reason (NAME.eml, NAME.json), purged after some days

A message is acknowledged to the resident only after `spool_message` returns: the bytes are
fsynced, renamed into new/ and the folder is fsynced. Deliverers claim a message with an
exclusive flock on its file, so several processes never send it twice, and a killed process's
lock disappears with it: at worst a message sent just before a kill is sent again, with the
same Message-ID.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .logtext import where

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Try again later (connection refused, timeout, 4xx)."""


class ServerUnavailable(TemporaryFailure):
    """The mail server cannot be reached at all: every other message would fail the same way,
    so the round ends here (as an MTA defers a whole queue for a host that is down)."""


class PermanentFailure(Exception):
    """Set aside: the server refused the message for good (5xx)."""


@dataclass
class Round:
    sent: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def folders(spool_dir: Path) -> tuple[Path, Path, Path]:
    tmp, new, failed = (spool_dir / name for name in ("tmp", "new", "failed"))
    for folder in (tmp, new, failed):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return tmp, new, failed


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes | Iterable[bytes], tmp_dir: Path) -> None:
    """Write to tmp/, fsync, rename into place, fsync the folder. Data given in chunks is
    written as it comes, so a large message is never held whole in memory."""
    tmp = tmp_dir / f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as f:
            for chunk in [data] if isinstance(data, bytes) else data:
                f.write(chunk)
            f.flush()
            os.fsync(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def spool_message(spool_dir: Path, name: str, data: bytes | Iterable[bytes]) -> Path:
    """Put a complete message on disk for delivery; raises OSError when it cannot (disk full)."""
    tmp, new, _ = folders(spool_dir)
    path = new / f"{name}.eml"
    write_durably(path, data, tmp)
    return path


def head_of(message: bytes) -> bytes:
    """A message's headers, without copying its body (split() would: 9 MB for a large one)."""
    end = message.find(b"\r\n\r\n")
    return message if end == -1 else message[:end]


def read_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


@dataclass(frozen=True)
class Retries:
    delays: tuple[int, ...]  # seconds before retry 1, 2, ...; the last repeats
    give_up_after: float  # seconds since the message was queued ...
    give_up_attempts: int = 1  # ... and at least this many attempts, before setting it aside

    def delay(self, attempts: int) -> int:
        return self.delays[min(attempts - 1, len(self.delays) - 1)]


def deliver_due(spool_dir: Path, send: Callable[[bytes], None], *, delays: tuple[int, ...],
                give_up_after: float, give_up_attempts: int = 1, now: float | None = None,
                on_outcome: Callable[[bytes, str], None] | None = None) -> Round:
    """Send every message that is due; defer temporary failures, set aside permanent ones.
    on_outcome(message, "delivered" or "failed") is told of each final outcome. No single
    message stops the round, whatever it raises."""
    tmp, new, failed = folders(spool_dir)
    retries = Retries(tuple(delays), give_up_after, give_up_attempts)
    result = Round()
    for path in sorted(new.glob("*.eml")):
        try:
            outcome, data = deliver_one(path, send, retries, now or time.time(), tmp, failed)
        except Exception as error:  # e.g. a file that cannot be read: the others go on
            log.error("could not deliver %s: unexpected %s at %s", path.stem,
                      type(error).__name__, where(error))
            continue
        if outcome is None:
            continue
        getattr(result, "deferred" if outcome == "unreachable" else outcome).append(path.stem)
        if on_outcome and outcome in ("sent", "failed"):
            on_outcome(data, "delivered" if outcome == "sent" else "failed")
        if outcome == "unreachable":
            break
    if result.sent:
        # Once a round, not per message: a deletion lost in a crash only means that message
        # is sent again, with the same Message-ID.
        fsync_dir(new)
    return result


def deliver_one(path: Path, send: Callable[[bytes], None], retries: Retries, now: float,
                tmp: Path, failed: Path) -> tuple[str | None, bytes]:
    """(outcome, the message) for one message; outcome None when it was not due or another
    deliverer has it."""
    next_try = read_state(path.with_suffix(".state")).get("next_try", 0)
    # A next try further away than the longest delay was set by a clock that was wrong.
    if now < next_try <= now + max(retries.delays, default=0):
        return None, b""
    with claimed(path) as data:
        if data is None:
            return None, b""
        return attempt(path, data, send, retries, now, tmp, failed), data


@contextmanager
def claimed(path: Path) -> Iterator[bytes | None]:
    """The message while this process holds its lock; None when another deliverer holds it
    or has just sent it. The lock dies with the process, so a kill leaves no stale claim."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None  # another deliverer sent it a moment ago
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        if os.fstat(fd).st_nlink == 0:
            yield None  # sent and removed while we waited
            return
        with os.fdopen(os.dup(fd), "rb") as f:
            yield f.read()
    finally:
        os.close(fd)


def attempt(path: Path, data: bytes, send: Callable[[bytes], None], retries: Retries,
            now: float, tmp: Path, failed: Path) -> str:
    """Send one claimed message: "sent", "deferred", "failed", or "unreachable" (deferred,
    and the server is down). An unexpected error is a failed attempt like a 4xx."""
    name, state_path = path.stem, path.with_suffix(".state")
    state = read_state(state_path)
    try:
        send(data)
    except PermanentFailure as error:
        return give_up(path, failed, str(error), state.get("attempts", 0) + 1, now)
    except Exception as error:
        if not isinstance(error, TemporaryFailure):
            log.error("unexpected %s while sending %s at %s", type(error).__name__, name,
                      where(error))
            error = TemporaryFailure(f"unexpected {type(error).__name__}")
        return defer(path, state, error, retries, now, tmp, failed)
    path.unlink()
    state_path.unlink(missing_ok=True)
    log.info("delivered %s", name)
    return "sent"


def defer(path: Path, state: dict, error: TemporaryFailure, retries: Retries, now: float,
          tmp: Path, failed: Path) -> str:
    """Record a temporary failure and when to try again; set the message aside once it has
    failed for long enough and often enough (a clock jump alone never gives up on it)."""
    name, state_path = path.stem, path.with_suffix(".state")
    attempts = state.get("attempts", 0) + 1
    queued_at = state.get("queued_at", path.stat().st_mtime)
    if now - queued_at >= retries.give_up_after and attempts >= retries.give_up_attempts:
        return give_up(path, failed, f"gave up after {attempts} attempts: {error}", attempts, now)
    delay = retries.delay(attempts)
    state = {"attempts": attempts, "queued_at": queued_at, "next_try": now + delay,
             "last_error": str(error)}
    try:
        write_durably(state_path, json.dumps(state).encode(), tmp)
    except OSError as write_error:  # disk full: retried next round, the rest go on
        log.error("could not record the retry of %s: %s", name, write_error.strerror)
    log.info("delivery of %s deferred (attempt %d, retry in %ds): %s",
             name, attempts, delay, error)
    return "unreachable" if isinstance(error, ServerUnavailable) else "deferred"


def give_up(path: Path, failed: Path, reason: str, attempts: int, when: float) -> str:
    try:
        set_aside(path, failed, reason, attempts, when)
    except OSError as write_error:  # disk full: it stays waiting, the rest go on
        log.error("could not set %s aside (%s): %s", path.stem, reason, write_error.strerror)
        return "deferred"
    log.warning("delivery of %s failed for good: %s", path.stem, reason)
    return "failed"


def set_aside(path: Path, failed: Path, reason: str, attempts: int, when: float) -> None:
    info = {"reason": reason, "attempts": attempts, "failed_at": when}
    tmp = path.parent.parent / "tmp"
    write_durably(failed / f"{path.stem}.json", json.dumps(info).encode(), tmp)
    os.replace(path, failed / path.name)
    path.with_suffix(".state").unlink(missing_ok=True)
    fsync_dir(path.parent)


def purge_failed(spool_dir: Path, keep_seconds: float, now: float | None = None) -> list[str]:
    """Delete failed messages older than keep_seconds (they hold personal data)."""
    _, _, failed = folders(spool_dir)
    now = now or time.time()
    purged = []
    for info_path in sorted(failed.glob("*.json")):
        if now - read_state(info_path).get("failed_at", 0) >= keep_seconds:
            info_path.with_suffix(".eml").unlink(missing_ok=True)
            info_path.unlink(missing_ok=True)
            purged.append(info_path.stem)
    for orphan in failed.glob("*.eml"):
        orphaned = not orphan.with_suffix(".json").exists()
        if orphaned and now - orphan.stat().st_mtime >= keep_seconds:
            orphan.unlink()
            purged.append(orphan.stem)
    return purged


def purge_tmp(spool_dir: Path, older_than: float, now: float | None = None) -> list[str]:
    """Delete what a killed writer left half-written in tmp/ (personal data, never sent);
    a write in progress is seconds old."""
    tmp, _, _ = folders(spool_dir)
    now = now or time.time()
    purged = []
    for path in tmp.iterdir():
        try:
            if now - path.stat().st_mtime >= older_than:
                path.unlink()
                purged.append(path.name)
        except FileNotFoundError:
            continue  # renamed into place or removed a moment ago
    return purged


def list_spool(spool_dir: Path) -> dict[str, list[dict]]:
    """What is waiting and what failed, without opening any message (no personal data)."""
    _, new, failed = folders(spool_dir)
    waiting = []
    for path in sorted(new.glob("*.eml")):
        state = read_state(path.with_suffix(".state"))
        waiting.append({"name": path.stem, "queued_at": state.get("queued_at",
                                                                  path.stat().st_mtime),
                        "attempts": state.get("attempts", 0),
                        "next_try": state.get("next_try"), "last_error": state.get("last_error")})
    failures = []
    for path in sorted(failed.glob("*.eml")):
        info = read_state(path.with_suffix(".json"))
        failures.append({"name": path.stem, "failed_at": info.get("failed_at"),
                         "attempts": info.get("attempts"), "reason": info.get("reason")})
    return {"waiting": waiting, "failed": failures}
