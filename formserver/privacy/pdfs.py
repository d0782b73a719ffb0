"""PDF evidence: refused when it carries anything active, rebuilt without metadata."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from .uncleanable import PDF_REFUSAL, UncleanableFile


def clean_pdf(data: bytes) -> bytes:
    """The PDF with its pages copied into a new file: no document information, no XMP metadata."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UncleanableFile(PDF_REFUSAL)
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page, excluded_keys=("/Metadata", "/PieceInfo"))
        writer.metadata = None
        out = io.BytesIO()
        writer.write(out)
        cleaned = out.getvalue()
        check = PdfReader(io.BytesIO(cleaned))
        metadata_left = check.metadata or "/Metadata" in check.trailer["/Root"]
        if metadata_left or len(check.pages) != len(reader.pages):
            raise UncleanableFile(PDF_REFUSAL)
    except UncleanableFile:
        raise
    except Exception as error:
        raise UncleanableFile(PDF_REFUSAL) from error
    return cleaned


ACTIVE_PDF_KEYS = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
                   "/RichMedia", "/XFA"}
ACTIVE_PDF_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR"}


def pdf_is_passive(data: bytes, most_objects: int = 50_000) -> bool:
    """A PDF that pypdf can read and that carries no script, launch action or embedded file
    (evidence is read, not run). Anything unreadable counts as not passive: fail closed."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return False
        pending, seen = [reader.trailer], set()
        while pending:
            node = pending.pop()
            if isinstance(node, IndirectObject):
                if node.idnum in seen:
                    continue
                seen.add(node.idnum)
                if len(seen) > most_objects:
                    return False
                node = node.get_object()
            if isinstance(node, DictionaryObject):
                if ACTIVE_PDF_KEYS & set(node.keys()) or node.get("/S") in ACTIVE_PDF_ACTIONS:
                    return False
                pending.extend(node.raw_get(key) for key in node if key != "/Parent")
            elif isinstance(node, ArrayObject):
                pending.extend(node)
    except Exception:  # pypdf raises many kinds of error on a malformed file
        return False
    return True
