"""Sealing what a resident typed or attached while it waits on the server: AES-GCM (the
`cryptography` package) with a key that only the resident's session cookie holds. Whoever
copies the files off the server, or finds what an abandoned visit left, cannot read them.

Files are sealed in chunks of 64 KiB, each with its own nonce and its place in the file in the
associated data, so a large file is never encrypted or decrypted whole, and chunks cannot be
reordered, dropped or cut off without the reader noticing."""

from __future__ import annotations

import base64
import binascii
import itertools
import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CHUNK = 64 * 1024
NONCE = 12
HEAD = struct.Struct(">?I")  # is it the last chunk, its sealed size


class Unreadable(Exception):
    """Not sealed with this key, altered, or cut short."""


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def cipher(key: str | None) -> AESGCM:
    try:
        raw = base64.urlsafe_b64decode((key or "").encode())
        return AESGCM(raw)
    except (binascii.Error, ValueError):
        raise Unreadable("not a key") from None


def seal(key: str, data: bytes, context: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + cipher(key).encrypt(nonce, data, context)


def unseal(key: str | None, token: bytes, context: bytes) -> bytes:
    try:
        return cipher(key).decrypt(token[:NONCE], token[NONCE:], context)
    except (InvalidTag, ValueError):
        raise Unreadable("cannot be opened with this key") from None


def chunk_context(context: bytes, index: int, last: bool) -> bytes:
    return context + struct.pack(">Q?", index, last)


def pieces(data: bytes | Iterable[bytes]) -> Iterator[tuple[int, bool, bytes]]:
    """(index, is it the last, bytes) for CHUNK-sized pieces of the data; one empty piece for
    no data. Bytes are cut without copying; an iterable is read one chunk ahead, so that the
    last piece is known."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        count = max(1, -(-len(view) // CHUNK))
        for index in range(count):
            yield index, index == count - 1, view[index * CHUNK : (index + 1) * CHUNK]
        return
    buffer, index = bytearray(), 0
    for block in data:
        buffer += block
        while len(buffer) > CHUNK:
            yield index, False, bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
            index += 1
    yield index, True, bytes(buffer)


def write_sealed(path: Path, key: str, data: bytes | Iterable[bytes], context: bytes) -> None:
    """Write the data sealed, chunk by chunk, into a new file (never over an existing one)."""
    aead = cipher(key)
    with open(path, "xb") as f:
        for index, last, piece in pieces(data):
            nonce = os.urandom(NONCE)
            sealed = aead.encrypt(nonce, piece, chunk_context(context, index, last))
            f.write(HEAD.pack(last, len(sealed)) + nonce + sealed)


def read_sealed(path: Path, key: str | None, context: bytes) -> Iterator[bytes]:
    """The data of a sealed file, one chunk at a time; raises Unreadable (or OSError)."""
    aead = cipher(key)
    with open(path, "rb") as f:
        for index in itertools.count():
            head = f.read(HEAD.size + NONCE)
            if len(head) < HEAD.size + NONCE:
                raise Unreadable("cut short")
            last, size = HEAD.unpack(head[: HEAD.size])
            if size > CHUNK + 16:
                raise Unreadable("not a sealed file")
            try:
                yield aead.decrypt(head[HEAD.size :], f.read(size),
                                   chunk_context(context, index, last))
            except InvalidTag:
                raise Unreadable("cannot be opened with this key") from None
            if last:
                if f.read(1):
                    raise Unreadable("more after the last chunk")
                return
