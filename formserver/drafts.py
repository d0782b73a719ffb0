"""Drafts: a valid complaint waits here, files and all, while the resident reviews it.

    DRAFT_DIR/<id>/draft.json       when it was made or sent and its files' names, in clear;
                                    the answers and the reference sealed
    DRAFT_DIR/<id>/evidence-<r>-N   the files (GPS already removed), sealed in chunks
    (anonymous files)               uploads and cleaned recordings while a request lasts
    DRAFT_DIR/<id>/.lock            held while the draft is being sent
    DRAFT_DIR/.new-<random>/        a draft being written, renamed to <id> once complete

Everything a resident typed or attached is sealed (sealed.py) with a key that only their
session holds: a draft folder copied off the server cannot be read. Every write is atomic
(a temporary name, then a rename), so a reader never sees half a draft, and what a failed
write leaves behind (a full disk) has no valid record and is purged after DRAFT_MAX_AGE.

A draft's files are deleted when it is sent or after DRAFT_MAX_AGE; its answers are kept a
little longer so that an expired draft can give them back (DRAFT_KEEP_ANSWERS). A sent draft
keeps only what the confirmation page prints (de-identified when the resident asked), never
the raw answers, until that page has been shown (and clicks sent with the first have been
answered: CLICKS_TOGETHER seconds) or DRAFT_MAX_AGE has passed."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .evidence import Evidence
from .sealed import Unreadable, new_key, read_sealed, seal, unseal, write_sealed

__all__ = ["Draft", "load_draft", "mark_sent", "new_key", "purge_drafts", "save_draft",
           "sending", "forget"]

DRAFT_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
RECORD = "draft.json"
SHOWN = ".shown"  # its confirmation page has been shown


@dataclass(frozen=True)
class Draft:
    id: str
    reference: str
    answers: dict
    evidence: tuple[Evidence, ...]
    created_at: float
    digest: str  # of what the resident reviewed: changes whenever the draft does
    sent_at: float | None = None
    files_expired: bool = False
    sent: dict | None = None  # once sent: {"summary": ..., "record": ...}, nothing else


def folder(drafts_dir: Path, draft_id: str | None) -> Path | None:
    return drafts_dir / draft_id if draft_id and DRAFT_ID.match(draft_id) else None


def context(draft_id: str, name: str) -> bytes:
    """What a sealed piece belongs to: it cannot be moved to another draft or file."""
    return f"{draft_id}/{name}".encode()


def write_record(path: Path, draft_id: str, key: str, record: dict, content: dict) -> None:
    """draft.json, written under a temporary name and renamed into place."""
    record = {**record, "sealed": seal(key, json.dumps(content, ensure_ascii=False).encode(),
                                       context(draft_id, RECORD)).hex()}
    temporary = path / f".{RECORD}.{secrets.token_hex(4)}"
    try:
        temporary.write_text(json.dumps(record))
        os.replace(temporary, path / RECORD)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_record(path: Path) -> dict | None:
    """The clear part of a draft's record; None when there is no valid one."""
    try:
        record = json.loads((path / RECORD).read_text())
        valid = (isinstance(record["created_at"], float) and isinstance(record["files"], list)
                 and isinstance(record["sealed"], str))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if valid else None


class SealedFile:
    """A draft's file, decrypted chunk by chunk as it is read (raises Unreadable)."""

    def __init__(self, path: Path, key: str | None, context: bytes):
        self.path, self.key, self.context = path, key, context

    def chunks(self) -> Iterator[bytes]:
        return read_sealed(self.path, self.key, self.context)


def write_files(path: Path, draft_id: str, key: str, evidence) -> list[dict]:
    """Seal each file, read and written in chunks, under a name no earlier version of the
    draft used."""
    revision = secrets.token_hex(4)
    files = []
    for number, item in enumerate(evidence, 1):
        name = f"evidence-{revision}-{number}"
        write_sealed(path / name, key, item.chunks(), context(draft_id, name))
        files.append({"file": name, **item.record()})
    return files


def save_draft(drafts_dir: Path, key: str, answers: dict, evidence, reference: str,
               draft_id: str | None = None) -> str:
    """Save a new draft (a new id, written into a temporary folder and renamed), or a new
    version of an existing one (new files, then the record replaced, then the old files
    deleted). Raises OSError when the disk cannot take it; nothing half-written is left
    that the purge would not remove."""
    drafts_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder(drafts_dir, draft_id)
    if path is None or read_record(path) is None:
        draft_id, path = secrets.token_urlsafe(16), drafts_dir / f".new-{secrets.token_hex(8)}"
        path.mkdir(mode=0o700)
        new = True
    else:
        new = False
    before = set(os.listdir(path))
    try:
        files = write_files(path, draft_id, key, evidence)
        content = {"reference": reference, "answers": answers, "evidence": files}
        write_record(path, draft_id, key, {"created_at": time.time(), "sent_at": None,
                                           "files": [item["file"] for item in files]}, content)
        if new:
            os.rename(path, drafts_dir / draft_id)
    except BaseException:
        if new:
            shutil.rmtree(path, ignore_errors=True)
        else:
            for name in set(os.listdir(path)) - before:
                (path / name).unlink(missing_ok=True)
        raise
    if not new:
        for name in before - {RECORD, ".lock"}:
            (path / name).unlink(missing_ok=True)
    return draft_id


def load_draft(drafts_dir: Path, draft_id: str | None, key: str | None, max_age: float,
               now: float | None = None, files: bool = True) -> Draft | None:
    """The draft, or None when there is none, it is not this key's, or it cannot be read.
    files=False skips the evidence (it comes back empty). The files are decrypted only as they
    are read: Unreadable may come then, from a file altered on disk."""
    path = folder(drafts_dir, draft_id)
    record = read_record(path) if path else None
    if record is None:
        return None
    try:
        content = json.loads(unseal(key, bytes.fromhex(record["sealed"]),
                                    context(draft_id, RECORD)))
    except (Unreadable, ValueError):
        return None
    now = now or time.time()
    expired = now - record["created_at"] > max_age
    evidence = ()
    if files and not expired and record["sent_at"] is None:
        # Opened as they are read (a recording is never read whole); a file that is gone
        # means the draft's files expired.
        listed = content["evidence"]
        expired = not all((path / item["file"]).is_file() for item in listed)
        evidence = () if expired else tuple(
            Evidence(**{k: v for k, v in item.items() if k != "file"},
                     source=SealedFile(path / item["file"], key, context(draft_id, item["file"])))
            for item in listed)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return Draft(draft_id, content["reference"], content.get("answers", {}), evidence,
                 record["created_at"], digest, record["sent_at"], files_expired=expired,
                 sent=content.get("sent"))


@contextmanager
def sending(drafts_dir: Path, draft_id: str | None) -> Iterator[None]:
    """Hold the draft's lock (flock, so across processes; a killed process's lock goes with
    it): one send at a time, and the others find it sent."""
    path = folder(drafts_dir, draft_id)
    try:
        fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o600) if path else None
    except OSError:  # no such draft: the caller finds out when it loads it
        fd = None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def mark_sent(drafts_dir: Path, draft_id: str, key: str, summary: dict, printed: dict) -> None:
    """Keep only what the confirmation page shows and prints; delete the answers and files."""
    path = drafts_dir / draft_id
    record = read_record(path)
    if record is None:
        return
    write_record(path, draft_id, key, {"created_at": record["created_at"],
                                       "sent_at": time.time(), "files": []},
                 {"reference": summary["reference"],
                  "sent": {"summary": summary, "record": printed}})
    for name in record["files"]:
        (path / name).unlink(missing_ok=True)


# Clicks on "send" that left together may arrive this long after the first has shown its
# confirmation; they still find the sent draft, and see the confirmation too.
CLICKS_TOGETHER = 30


def forget(drafts_dir: Path, draft_id: str | None, sent_at: float | None = None,
           now: float | None = None) -> None:
    """Delete a draft whose confirmation page has been shown: at once, or, when it was sent
    less than CLICKS_TOGETHER seconds ago, at the first purge after (it is marked shown)."""
    path = folder(drafts_dir, draft_id)
    if not path:
        return
    if sent_at is not None and (now or time.time()) - sent_at < CLICKS_TOGETHER:
        with suppress(OSError):
            (path / SHOWN).touch()
        return
    shutil.rmtree(path, ignore_errors=True)


def purge_drafts(drafts_dir: Path, max_age: float, keep_answers: float,
                 now: float | None = None) -> int:
    """Delete expired files, whole drafts past their keeping time, and anything without a
    valid record (a write that failed half-way) once it is DRAFT_MAX_AGE old; return how many
    folders went."""
    now = now or time.time()
    purged = 0
    for path in drafts_dir.iterdir() if drafts_dir.is_dir() else ():
        with suppress(OSError):
            if purge_one(path, max_age, keep_answers, now):
                shutil.rmtree(path, ignore_errors=True)
                purged += 1
    return purged


def purge_one(path: Path, max_age: float, keep_answers: float, now: float) -> bool:
    """Whether the whole folder goes; inside a folder that stays, deletes the files of an
    expired draft and whatever a failed write left (once it is itself DRAFT_MAX_AGE old)."""
    record = read_record(path) if path.is_dir() else None
    if record is None:
        return path.is_dir() and now - path.stat().st_mtime > max_age
    age = now - record["created_at"]
    sent_age = now - record["sent_at"] if record["sent_at"] else None
    if (sent_age is not None and sent_age > max_age) or age > keep_answers:
        return True
    if sent_age is not None and sent_age >= CLICKS_TOGETHER and (path / SHOWN).exists():
        return True
    for item in path.iterdir():
        if item.name in (RECORD, ".lock", SHOWN):
            continue
        listed = item.name in record["files"]
        if (listed and age > max_age) or (not listed and now - item.stat().st_mtime > max_age):
            item.unlink(missing_ok=True)
    return False
