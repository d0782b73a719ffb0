"""Drafts: a valid complaint waits here, files and all, while the resident reviews it.

    DRAFT_DIR/<id>/draft.json        the typed answers, the reference, when it was made or sent
    DRAFT_DIR/<id>/evidence-N.<ext>  the files, GPS already removed

A draft's files are deleted when it is sent or after DRAFT_MAX_AGE; its answers are kept a
little longer so that an expired draft can give them back (DRAFT_KEEP_ANSWERS), and a sent one
keeps them for DRAFT_MAX_AGE so the resident can print the written complaint."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .evidence import Evidence

DRAFT_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(frozen=True)
class Draft:
    id: str
    reference: str
    answers: dict
    evidence: tuple[Evidence, ...]
    created_at: float
    sent_at: float | None = None
    files_expired: bool = False


def folder(drafts_dir: Path, draft_id: str) -> Path | None:
    return drafts_dir / draft_id if draft_id and DRAFT_ID.match(draft_id) else None


def save_draft(drafts_dir: Path, answers: dict, evidence, reference: str,
               draft_id: str | None = None) -> str:
    draft_id = draft_id if folder(drafts_dir, draft_id or "") else secrets.token_urlsafe(16)
    path = drafts_dir / draft_id
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, mode=0o700)
    files = []
    for number, item in enumerate(evidence, 1):
        name = f"evidence-{number}.{item.ext}"
        (path / name).write_bytes(item.data)
        meta = asdict(item)
        del meta["data"]
        files.append({"file": name, **meta})
    record = {"reference": reference, "answers": answers, "evidence": files,
              "created_at": time.time(), "sent_at": None}
    (path / "draft.json").write_text(json.dumps(record, ensure_ascii=False))
    return draft_id


def load_draft(drafts_dir: Path, draft_id: str | None, max_age: float,
               now: float | None = None) -> Draft | None:
    path = folder(drafts_dir, draft_id or "")
    try:
        record = json.loads((path / "draft.json").read_text()) if path else None
    except (FileNotFoundError, ValueError):
        record = None
    if record is None:
        return None
    now = now or time.time()
    expired = now - record["created_at"] > max_age
    evidence = ()
    if not expired and record["sent_at"] is None:
        try:
            evidence = tuple(Evidence(data=(path / item.pop("file")).read_bytes(), **item)
                             for item in record["evidence"])
        except FileNotFoundError:
            expired = True
    return Draft(draft_id, record["reference"], record["answers"], evidence,
                 record["created_at"], record["sent_at"], files_expired=expired)


def mark_sent(drafts_dir: Path, draft_id: str, sent: dict) -> None:
    """Delete the files at once; keep what was sent (without files) a while for printing."""
    path = drafts_dir / draft_id
    for item in path.glob("evidence-*"):
        item.unlink()
    record = json.loads((path / "draft.json").read_text())
    record.update(sent_at=time.time(), evidence=[], sent=sent)
    (path / "draft.json").write_text(json.dumps(record, ensure_ascii=False))


def sent_copy(drafts_dir: Path, draft_id: str | None) -> dict | None:
    """What was sent, for the confirmation page to print; None once purged."""
    path = folder(drafts_dir, draft_id or "")
    try:
        return json.loads((path / "draft.json").read_text()).get("sent") if path else None
    except (FileNotFoundError, ValueError):
        return None


def purge_drafts(drafts_dir: Path, max_age: float, keep_answers: float,
                 now: float | None = None) -> int:
    """Delete expired files, then whole drafts past their keeping time; return how many."""
    now = now or time.time()
    purged = 0
    for path in drafts_dir.glob("*/draft.json") if drafts_dir.is_dir() else ():
        try:
            record = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            continue
        age = now - record["created_at"]
        sent_age = now - record["sent_at"] if record["sent_at"] else None
        if (sent_age is not None and sent_age > max_age) or age > keep_answers:
            shutil.rmtree(path.parent, ignore_errors=True)
            purged += 1
        elif age > max_age:
            for item in path.parent.glob("evidence-*"):
                item.unlink()
    return purged
