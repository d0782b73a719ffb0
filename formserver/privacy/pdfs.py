"""PDF evidence: refused when it carries anything active, rebuilt by qpdf (through pikepdf).

qpdf writes a new file from the objects the document still reaches, so earlier revisions,
orphaned objects and anything after the end are gone. Images are edited, never re-encoded:
a JPEG loses its metadata segments (or only its location), the pixels stay as they were.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from .exif import mentions_gps
from .jpeg import jpeg_without_gps, jpeg_without_metadata
from .uncleanable import PDF_REFUSAL, UncleanableFile

PDF_ACTIVE = ("這份 PDF 含有程式碼、附件、表單提交或開啟網址等動作，未能接受。"
              "請用「列印」另存為一般的 PDF，或改用相片或截圖後再試。")
PDF_LOCKED = "這份 PDF 設有密碼或加密，未能接受。請先移除密碼再另存，或改用相片或截圖。"
PDF_UNREADABLE = "這份 PDF 無法讀取，未能接受。請把它另存或列印成一般的 PDF，或改用相片。"

ACTIVE_PDF_KEYS = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/EF",
                   "/RichMedia", "/XFA"}
ACTIVE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
# In-document navigation is all a piece of evidence may do.
ALLOWED_ACTIONS = {"/GoTo"}
ALLOWED_NAMED_ACTIONS = {"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"}

_KEPT_ROOT_KEYS = {"/Type", "/Pages", "/PageLabels", "/Names", "/Dests", "/Outlines",
                   "/PageLayout", "/PageMode", "/ViewerPreferences", "/OCProperties", "/Lang",
                   "/Version"}  # (the structure tree goes: it points at the annotations)
_KEPT_NAME_TREES = {"/Dests"}
_KEPT_PAGE_KEYS = {"/Type", "/Parent", "/Resources", "/MediaBox", "/CropBox", "/BleedBox",
                   "/TrimBox", "/ArtBox", "/Contents", "/Rotate", "/Group", "/UserUnit"}
_PRIVATE_KEYS = ("/Metadata", "/PieceInfo", "/LastModified")
_JP2_KEPT_BOXES = {b"jP  ", b"ftyp", b"jp2h", b"jp2c"}
# Metadata segments of a JPEG or JPEG 2000 drawn inside a page (an inline image).
_IMAGE_METADATA = (b"Exif\x00\x00", b"http://ns.adobe.com/", b"Photoshop 3.0")


def check_pdf(data: bytes, most_objects: int = 50_000) -> None:
    """Raise UncleanableFile (with a message for the resident) unless the PDF is passive:
    readable, not encrypted, no script, embedded file, form submission, XFA or any action
    other than moving within the document (evidence is read, not run). A web link that the
    reader would have to click is not refused: the office's copy loses it (disarm_links)."""
    with _opened(data) as pdf:
        if len(pdf.objects) > most_objects:
            raise UncleanableFile(PDF_UNREADABLE)
        try:
            disarm_links(pdf)
            for node in _all_dictionaries(pdf):
                if _is_active(node):
                    raise UncleanableFile(PDF_ACTIVE)
        except UncleanableFile:
            raise
        except Exception as error:  # qpdf raises on objects it cannot parse
            raise UncleanableFile(PDF_UNREADABLE) from error


def clean_pdf(data: bytes) -> bytes:
    """The PDF with no metadata: no document information or XMP anywhere, no form field or
    value, no annotation (what a note, highlight or drawing shows on the page is drawn into
    it, without its author, text or dates), no private application data, no structure tree,
    images without their EXIF, XMP or comments, a new file identifier."""
    check_pdf(data)
    with _opened(data) as pdf:
        pages = len(pdf.pages)
        try:
            disarm_links(pdf)
            _drop_form_fields(pdf)
            pdf.flatten_annotations("all")
            _drop_keys(pdf.Root, keep=_KEPT_ROOT_KEYS)
            if isinstance(pdf.Root.get("/Names"), Dictionary):
                _drop_keys(pdf.Root.Names, keep=_KEPT_NAME_TREES)
            for page in pdf.pages:
                _drop_keys(page.obj, keep=_KEPT_PAGE_KEYS)
            for node in _all_dictionaries(pdf):
                for key in _PRIVATE_KEYS:
                    if key in node:
                        del node[key]
            _edit_images(pdf, jpeg_without_metadata)
            for key in ("/Info", "/ID"):
                if key in pdf.trailer:
                    del pdf.trailer[key]
            cleaned = _saved(pdf)
        except UncleanableFile:
            raise
        except Exception as error:
            raise UncleanableFile(PDF_REFUSAL) from error
    _check_clean(cleaned, pages)
    return cleaned


def strip_pdf_gps(data: bytes) -> bytes:
    """The PDF without locations: GPS out of the images inside it, XMP that mentions GPS
    dropped; everything else kept. A PDF with nothing to remove comes back unchanged (so a
    digital signature stays valid)."""
    check_pdf(data)
    with _opened(data) as pdf:
        try:
            changed = disarm_links(pdf)
            for node in _all_dictionaries(pdf):
                metadata = node.get("/Metadata")
                if isinstance(metadata, Stream) and mentions_gps(metadata.read_bytes()):
                    del node["/Metadata"]
                    changed = True
            changed |= _edit_images(pdf, jpeg_without_gps)
            return _saved(pdf) if changed else data
        except UncleanableFile:
            raise
        except Exception as error:
            raise UncleanableFile(PDF_REFUSAL) from error


def disarm_links(pdf: pikepdf.Pdf) -> bool:
    """Take the web address out of every link annotation that only opens one (bills and
    statements are full of them): the text on the page stays, nothing opens. Whether any was."""
    disarmed = False
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", Array()):
            target = annotation.get("/A") if isinstance(annotation, Dictionary) else None
            if (_name(annotation, "/Subtype") == "/Link" and isinstance(target, Dictionary)
                    and _name(target, "/S") == "/URI" and "/Next" not in target):
                del annotation["/A"]
                disarmed = True
    return disarmed


class _opened:
    """pikepdf's Pdf for data, or UncleanableFile with the reason for the resident."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __enter__(self) -> pikepdf.Pdf:
        try:
            self.pdf = pikepdf.open(io.BytesIO(self.data))
        except pikepdf.PasswordError as error:
            raise UncleanableFile(PDF_LOCKED) from error
        except Exception as error:
            raise UncleanableFile(PDF_UNREADABLE) from error
        if self.pdf.is_encrypted:
            self.pdf.close()
            raise UncleanableFile(PDF_LOCKED)
        return self.pdf

    def __exit__(self, *exc_info) -> None:
        self.pdf.close()


def _all_dictionaries(pdf: pikepdf.Pdf):
    """Every dictionary in the file, direct ones inside others included; streams count."""
    pending = [obj for obj in pdf.objects if isinstance(obj, Dictionary | Stream | Array)]
    pending.append(pdf.trailer)
    seen = set()
    while pending:
        node = pending.pop()
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        if isinstance(node, Array):
            pending.extend(item for item in node if isinstance(item, Dictionary | Stream | Array))
            continue
        yield node
        for key in node:
            if key != "/Parent":
                value = node.get(key)
                if isinstance(value, Dictionary | Stream | Array):
                    pending.append(value)


def _name(node, key: str) -> str | None:
    value = node.get(key)
    return str(value) if isinstance(value, Name) else None


def _is_active(node) -> bool:
    if ACTIVE_PDF_KEYS & set(node.keys()) or _name(node, "/Type") == "/EmbeddedFile":
        return True
    if _name(node, "/Subtype") in ACTIVE_ANNOTATIONS:
        return True
    return any(not _is_navigation(action) for action in _actions_of(node))


def _actions_of(node) -> list:
    """The actions this dictionary starts: its own if it is one, /A of a link or an outline
    item, /OpenAction, the triggers of /AA, and the chain of /Next."""
    actions = []
    if _name(node, "/Type") == "/Action" or ("/S" in node and "/Next" in node):
        actions.append(node)
    for key in ("/A", "/OpenAction"):
        value = node.get(key)
        if isinstance(value, Dictionary) and "/S" in value and "/O" not in value:
            actions.append(value)  # (a structure element's /A holds attributes, with /O)
    triggers = node.get("/AA")
    if isinstance(triggers, Dictionary):
        actions.extend(value for value in triggers.values() if isinstance(value, Dictionary))
    chained = node.get("/Next") if "/S" in node else None
    if isinstance(chained, Dictionary):
        actions.append(chained)
    elif isinstance(chained, Array):
        actions.extend(value for value in chained if isinstance(value, Dictionary))
    return actions


def _is_navigation(action) -> bool:
    kind = _name(action, "/S")
    if kind == "/Named":
        return _name(action, "/N") in ALLOWED_NAMED_ACTIONS
    return kind in ALLOWED_ACTIONS


def _drop_form_fields(pdf: pikepdf.Pdf) -> None:
    if "/AcroForm" in pdf.Root:
        del pdf.Root["/AcroForm"]
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, Array):
            page.obj.Annots = Array(annotation for annotation in annotations
                                    if _name(annotation, "/Subtype") != "/Widget")


def _drop_keys(node, keep: set[str]) -> None:
    for key in list(node.keys()):
        if key not in keep:
            del node[key]


def _edit_images(pdf: pikepdf.Pdf, edit_jpeg) -> bool:
    """Edit every JPEG and JPEG 2000 image; refuse an inline one (drawn by a page or a form
    itself) that carries metadata. Returns whether anything changed."""
    changed = False
    drawings = []
    for obj in pdf.objects:
        if isinstance(obj, Stream) and _name(obj, "/Subtype") == "/Image":
            changed |= _edit_image(obj, edit_jpeg)
        elif isinstance(obj, Stream) and _name(obj, "/Subtype") == "/Form":
            drawings.append(obj)
    for page in pdf.pages:
        contents = page.obj.get("/Contents")
        drawings.extend(contents if isinstance(contents, Array) else [contents])
    for drawing in drawings:
        if isinstance(drawing, Stream):
            content = drawing.read_bytes()
            if any(marker in content for marker in _IMAGE_METADATA):
                raise UncleanableFile(PDF_REFUSAL)
    return changed


def _edit_image(image, edit_jpeg) -> bool:
    filters = image.get("/Filter")
    filters = [str(f) for f in filters] if isinstance(filters, Array) else [str(filters or "")]
    if filters == ["/DCTDecode"]:
        raw = image.read_raw_bytes()
        edited = edit_jpeg(raw)
    elif filters == ["/JPXDecode"]:
        raw = image.read_raw_bytes()
        edited = _jp2_without_metadata(raw)
    else:
        return False
    if edited == raw:
        return False
    image.write(edited, filter=Name(filters[0]))
    return True


def _jp2_without_metadata(data: bytes) -> bytes:
    """A JPEG 2000 file with only the boxes needed to show it (no XML, UUID or other box, which
    is where GeoJP2, EXIF and XMP go); a bare codestream is returned as it is."""
    if data[4:8] != b"jP  ":
        return data
    kept, position = bytearray(), 0
    while position + 8 <= len(data):
        length, kind = int.from_bytes(data[position : position + 4], "big"), data[position + 4 :
                                                                                  position + 8]
        if length == 1:
            length = int.from_bytes(data[position + 8 : position + 16], "big")
        elif length == 0:
            length = len(data) - position
        if length < 8:
            raise ValueError("malformed JPEG 2000 box")
        if kind in _JP2_KEPT_BOXES:
            kept += data[position : position + length]
        position += length
    return bytes(kept)


def _saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, fix_metadata_version=False)
    return out.getvalue()


def _check_clean(cleaned: bytes, pages: int) -> None:
    with _opened(cleaned) as check:
        left = ("/Info" in check.trailer or len(check.pages) != pages
                or any(key in check.Root for key in ("/Metadata", "/AcroForm"))
                or any("/Annots" in page.obj for page in check.pages)
                or any("/Metadata" in node for node in _all_dictionaries(check)))
    if left:
        raise UncleanableFile(PDF_REFUSAL)
