"""Sealing what a resident typed or attached while it waits on the server: AES-GCM (the
`cryptography` package) with a key that only the resident's session cookie holds. Whoever
copies the files off the server, or finds what an abandoned visit left, cannot read them.

Files are sealed in chunks of 64 KiB, each with its own nonce and its place in the file in the
associated data, so a large file is never encrypted or decrypted whole, and chunks cannot be
reordered, dropped or cut off without the reader noticing. Every chunk but the last is full, so
SealedReader can read a sealed file from any place, decrypting only the chunks it needs."""

from __future__ import annotations

import base64
import binascii
import io
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


RECORD = HEAD.size + NONCE + CHUNK + 16  # the size on disk of every chunk but the last


def sealed_length(size_on_disk: int) -> int:
    """The length of the data a sealed file of this size holds: every chunk but the last is
    full, so the file can be read from any place (Unreadable when no file has this size)."""
    count = max(1, -(-size_on_disk // RECORD))
    last = size_on_disk - (count - 1) * RECORD - (HEAD.size + NONCE + 16)
    if not 0 <= last <= CHUNK:
        raise Unreadable("not a sealed file")
    return (count - 1) * CHUNK + last


class SealedReader(io.RawIOBase):
    """A sealed file read like a plain one, from any place: a read decrypts only the chunks
    it needs (a video player's range request, a clerk scrubbing through a clip), each checked
    against its place in the file. Raises Unreadable as read_sealed does."""

    def __init__(self, path: Path, key: str, context: bytes):
        super().__init__()
        self.file = open(path, "rb")  # noqa: SIM115 (closed with the reader)
        self.aead, self.context = cipher(key), context
        try:
            self.length = sealed_length(os.fstat(self.file.fileno()).st_size)
        except BaseException:
            self.file.close()
            raise
        self.chunks = max(1, -(-self.length // CHUNK))
        self.position = 0
        self.cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        if self.position >= self.length:
            return 0
        index, start = divmod(self.position, CHUNK)
        data = self.chunk(index)[start : start + len(buffer)]
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def chunk(self, index: int) -> bytes:
        if self.cached and self.cached[0] == index:
            return self.cached[1]
        last = index == self.chunks - 1
        self.file.seek(index * RECORD)
        head = self.file.read(HEAD.size + NONCE)
        if len(head) < HEAD.size + NONCE or HEAD.unpack(head[: HEAD.size])[0] != last:
            raise Unreadable("cut short")
        size = HEAD.unpack(head[: HEAD.size])[1]
        try:
            data = self.aead.decrypt(head[HEAD.size :], self.file.read(size),
                                     chunk_context(self.context, index, last))
        except InvalidTag:
            raise Unreadable("cannot be opened with this key") from None
        self.cached = (index, data)
        return data

    def close(self) -> None:
        self.file.close()
        super().close()
