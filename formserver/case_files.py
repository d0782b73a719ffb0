"""The case's evidence files (CASE_FILES_DIR): every file of a complaint, attached to the office's
email or not, kept with its case and deleted with it.

    CASE_FILES_DIR/<reference>/files.json   what each file is (kind, size, hashes), sealed
    CASE_FILES_DIR/<reference>/<n>          file n (1, 2, ...), sealed in 64 KiB chunks
    CASE_FILES_DIR/.new-<random>/           a case's files being written, renamed once complete

Sealed (sealed.py, AES-GCM) with a key derived from SECRET_KEY for this purpose alone, each file
bound to its case and number: the folder copied off the server opens nothing, and no file can be
swapped for another. Every chunk but the last is full, so a range request (a clerk scrubbing
through a clip) decrypts only the chunks it needs (sealed.SealedReader).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .crypto import derived_key
from .evidence import Evidence
from .sealed import SealedReader, Unreadable, read_sealed, write_sealed
from .vocabulary import REFERENCE

MANIFEST = "files.json"


@dataclass(frozen=True)
class CaseFile:
    number: int  # 1, 2, ... in the order the resident attached them
    item: Evidence  # what the file is (description only)
    stored_sha256: str  # of the file as kept (and as the office downloads it)

    @property
    def name(self) -> str:
        return f"evidence-{self.number}.{self.item.ext}"


def key(secret: str) -> str:
    return base64.urlsafe_b64encode(derived_key(secret, "case files v1")).decode()


def context(reference: str, name: str) -> bytes:
    return f"case-file/{reference}/{name}".encode()


def folder_of(files_dir: Path, reference: str) -> Path:
    if not REFERENCE.match(reference):
        raise ValueError("not a reference")
    return files_dir / reference


def _hashing(chunks: Iterable[bytes], digest) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def store(files_dir: Path, reference: str, evidence: Iterable[Evidence], secret: str,
          ) -> list[CaseFile]:
    """Seal every file of a complaint into its case's folder, read and written in chunks
    (into a temporary folder, renamed into place once complete). Raises OSError, or
    Unreadable for a draft's file altered on disk; then nothing is left."""
    files_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder_of(files_dir, reference)
    temporary = files_dir / f".new-{secrets.token_hex(8)}"
    temporary.mkdir(mode=0o700)
    stored, case_key = [], key(secret)
    try:
        for number, item in enumerate(evidence, 1):
            digest = hashlib.sha256()
            write_sealed(temporary / str(number), case_key, _hashing(item.chunks(), digest),
                         context(reference, str(number)))
            stored.append(CaseFile(number, Evidence(**item.record()), digest.hexdigest()))
        manifest = [{"number": f.number, "stored_sha256": f.stored_sha256, **f.item.record()}
                    for f in stored]
        write_sealed(temporary / MANIFEST, case_key, json.dumps(manifest).encode(),
                     context(reference, MANIFEST))
        shutil.rmtree(target, ignore_errors=True)  # what an earlier, failed send left
        os.rename(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return stored


def files_of(files_dir: Path, reference: str, secret: str) -> list[CaseFile]:
    """The case's files; [] when it has none (or they cannot be opened)."""
    path = folder_of(files_dir, reference) / MANIFEST
    try:
        manifest = json.loads(b"".join(read_sealed(path, key(secret),
                                                   context(reference, MANIFEST))))
    except (OSError, Unreadable, ValueError):
        return []
    return [CaseFile(entry.pop("number"), stored_sha256=entry.pop("stored_sha256"),
                     item=Evidence(**entry)) for entry in manifest]


def open_file(files_dir: Path, reference: str, number: int, secret: str) -> SealedReader:
    """File n of the case, to be read from any place; raises OSError or Unreadable."""
    return SealedReader(folder_of(files_dir, reference) / str(number), key(secret),
                        context(reference, str(number)))


def delete(files_dir: Path, references: Iterable[str]) -> None:
    for reference in references:
        shutil.rmtree(folder_of(files_dir, reference), ignore_errors=True)


def purge_orphans(files_dir: Path, has_case: Callable[[str], bool], older_than: float,
                  now: float | None = None) -> list[str]:
    """Delete files left without a case (its store was broken when it was sent) and what a
    killed writer left half-written, once older_than seconds old; return their names."""
    now = now or time.time()
    purged = []
    for path in sorted(files_dir.iterdir()) if files_dir.is_dir() else ():
        try:
            old = now - path.stat().st_mtime > older_than
        except FileNotFoundError:
            continue
        unfinished = path.name.startswith(".new-")
        if old and (unfinished or (REFERENCE.match(path.name) and not has_case(path.name))):
            shutil.rmtree(path, ignore_errors=True)
            purged.append(path.name)
    return purged
