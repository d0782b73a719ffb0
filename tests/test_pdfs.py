"""PDFs: refused when they can do anything but show pages, rebuilt by qpdf without metadata
(or without locations), read back with exiftool and with qpdf's uncompressed form."""

from __future__ import annotations

import io

import pikepdf
import pytest
from crafted import (
    PDF_AUTHOR,
    PDF_FIELD_VALUE,
    PDF_NOTE,
    leaks,
    located,
    needs_exiftool,
    pdf_images,
    pdf_with_everything,
    read_tags,
    tags_of_bytes,
)
from helpers import CAMERA_MODEL, camera_photo
from pikepdf import Array, Dictionary, Name, String
from PIL import Image

from formserver.privacy.pdfs import (
    PDF_ACTIVE,
    PDF_LOCKED,
    check_pdf,
    clean_pdf,
    strip_pdf_gps,
)
from formserver.privacy.uncleanable import UncleanableFile

PDF_SECRETS = (PDF_AUTHOR, PDF_NOTE, PDF_FIELD_VALUE, "12B", "22,16", "GPS", CAMERA_MODEL,
               b"taken by resident".decode(), "2024")


def uncompressed(data: bytes) -> bytes:
    """The PDF written out by qpdf with every stream and object stream uncompressed, so a
    plain search sees everything the file holds."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, qdf=True, compress_streams=False,
                 stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
                 object_stream_mode=pikepdf.ObjectStreamMode.disable)
        return out.getvalue()


def pixels_of(jpeg: bytes) -> bytes:
    with Image.open(io.BytesIO(jpeg)) as image:
        return image.tobytes()


def test_a_deidentified_pdf_keeps_its_page_and_picture_and_nothing_else():
    original = pdf_with_everything(camera_photo())
    everything = uncompressed(original)
    for secret in PDF_SECRETS:
        assert secret.encode() in everything, f"the original carries {secret}"
    cleaned = clean_pdf(original)
    left = uncompressed(cleaned)
    assert [secret for secret in PDF_SECRETS if secret.encode() in left] == []
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert len(pdf.pages) == 1
        assert "/Annots" not in pdf.pages[0].obj and "/AcroForm" not in pdf.Root
    [before], [after] = pdf_images(original), pdf_images(cleaned)
    assert pixels_of(after) == pixels_of(before)  # not re-encoded


@needs_exiftool
def test_exiftool_finds_no_metadata_in_a_deidentified_pdf_nor_in_its_picture(tmp_path):
    original = pdf_with_everything(camera_photo())
    assert leaks(tags_of_bytes(tmp_path, original, "original.pdf"), PDF_SECRETS)
    cleaned = clean_pdf(original)
    tags = tags_of_bytes(tmp_path, cleaned, "cleaned.pdf")
    assert leaks(tags, PDF_SECRETS) == [] and located(tags) == []
    described = {"Author", "Title", "Subject", "Keywords", "Creator", "Producer", "CreateDate",
                 "ModifyDate"}
    assert not [key for key in tags if key.startswith("XMP") or key.split(":")[1] in described]
    [picture] = pdf_images(cleaned)
    picture_tags = tags_of_bytes(tmp_path, picture, "picture.jpg")
    assert not [key for key in picture_tags if key.split(":")[0] in (
        "IFD0", "ExifIFD", "GPS", "XMP-x", "XMP-exif", "Photoshop", "IPTC")], picture_tags
    assert "File:Comment" not in picture_tags and located(picture_tags) == []


@needs_exiftool
def test_without_deidentification_a_pdf_loses_only_its_locations(tmp_path):
    original = pdf_with_everything(camera_photo())
    assert located(tags_of_bytes(tmp_path, pdf_images(original)[0], "before.jpg"))
    stripped = strip_pdf_gps(original)
    tags = tags_of_bytes(tmp_path, stripped, "stripped.pdf")
    assert located(tags) == []
    assert tags["PDF:Author"] == PDF_AUTHOR
    [picture] = pdf_images(stripped)
    picture_tags = tags_of_bytes(tmp_path, picture, "picture.jpg")
    assert located(picture_tags) == []
    assert picture_tags["IFD0:Model"] == CAMERA_MODEL
    assert pixels_of(picture) == pixels_of(pdf_images(original)[0])
    with pikepdf.open(io.BytesIO(stripped)) as pdf:
        assert len(pdf.pages[0].obj.Annots) == 2  # the notes stay where nobody asked


def made_pdf(edit=None, pages: int = 1, **save_options) -> bytes:
    """A PDF of blank pages, changed by edit(pdf) before it is saved."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    if edit:
        edit(pdf)
    out = io.BytesIO()
    pdf.save(out, **save_options)
    return out.getvalue()


def test_a_pdf_with_no_location_comes_back_unchanged_without_deidentification():
    data = made_pdf(lambda pdf: pdf.docinfo.__setitem__("/Title", "Minutes"))
    assert strip_pdf_gps(data) == data


def action(kind: str, **entries) -> Dictionary:
    return Dictionary(Type=Name.Action, S=Name(kind), **entries)


REFUSED_ACTIONS = {
    "URI": action("/URI", URI=String("https://example.com/")),
    "Launch": action("/Launch", F=String("calc.exe")),
    "SubmitForm": action("/SubmitForm", F=String("https://example.com/")),
    "ImportData": action("/ImportData", F=String("data.fdf")),
    "JavaScript": action("/JavaScript", JS=String("app.alert(1)")),
    "GoToR": action("/GoToR", F=String("other.pdf"), D=Array([0, Name.Fit])),
    "GoToE": action("/GoToE", D=Array([0, Name.Fit])),
    "Rendition": action("/Rendition", OP=1),
    "Sound": action("/Sound"),
    "Movie": action("/Movie"),
    "Named Print": action("/Named", N=Name.Print),
}


def pdf_with(open_action=None, link_action=None, page_trigger=None) -> bytes:
    def edit(pdf):
        if open_action is not None:
            pdf.Root.OpenAction = open_action
        if link_action is not None:
            link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 50, 50]),
                              A=link_action)
            pdf.pages[0].obj.Annots = Array([pdf.make_indirect(link)])
        if page_trigger is not None:
            pdf.pages[0].obj.AA = Dictionary(O=page_trigger)
    return made_pdf(edit, pages=2)


# Every action anywhere, but a web link that must be clicked: that is disarmed (next test).
@pytest.mark.parametrize(("kind", "where"), [
    (kind, where) for kind in REFUSED_ACTIONS
    for where in ("open_action", "link_action", "page_trigger")
    if (kind, where) != ("URI", "link_action")])
def test_a_pdf_action_other_than_moving_within_the_document_is_refused(kind, where):
    data = pdf_with(**{where: REFUSED_ACTIONS[kind]})
    with pytest.raises(UncleanableFile) as refusal:
        check_pdf(data)
    assert str(refusal.value) == PDF_ACTIVE
    assert "請用「列印」另存" in PDF_ACTIVE
    with pytest.raises(UncleanableFile):
        clean_pdf(data)


@pytest.mark.parametrize("clean", [clean_pdf, strip_pdf_gps])
def test_a_web_link_is_taken_out_of_the_offices_copy_not_refused(clean):
    data = pdf_with(link_action=REFUSED_ACTIONS["URI"])
    check_pdf(data)
    with pikepdf.open(io.BytesIO(clean(data))) as cleaned:
        for page in cleaned.pages:
            for annotation in page.obj.get("/Annots", []):
                assert "/A" not in annotation
        assert b"/URI" not in io.BytesIO(clean(data)).getvalue()


def test_a_web_link_that_chains_another_action_is_refused():
    chained = action("/URI", URI=String("https://example.com/"), Next=REFUSED_ACTIONS["Launch"])
    with pytest.raises(UncleanableFile):
        check_pdf(pdf_with(link_action=chained))


def test_a_chained_action_behind_a_harmless_one_is_refused():
    chained = action("/GoTo", D=Array([0, Name.Fit]), Next=REFUSED_ACTIONS["URI"])
    with pytest.raises(UncleanableFile):
        check_pdf(pdf_with(open_action=chained))


@pytest.mark.parametrize("navigation", [
    action("/GoTo", D=Array([1, Name.Fit])),
    action("/Named", N=Name.NextPage),
])
def test_moving_within_the_document_is_allowed(navigation):
    data = pdf_with(open_action=navigation, link_action=navigation)
    check_pdf(data)
    with pikepdf.open(io.BytesIO(clean_pdf(data))) as cleaned:
        assert len(cleaned.pages) == 2


def test_an_open_action_that_is_a_plain_destination_is_allowed():
    def edit(pdf):
        pdf.Root.OpenAction = Array([pdf.pages[0].obj, Name.Fit])
    check_pdf(made_pdf(edit))


def test_an_encrypted_pdf_is_refused_with_a_message_about_the_password():
    data = made_pdf(encryption=pikepdf.Encryption(owner="owner", user=""))
    for function in (check_pdf, clean_pdf, strip_pdf_gps):
        with pytest.raises(UncleanableFile) as refusal:
            function(data)
        assert str(refusal.value) == PDF_LOCKED


def test_an_embedded_file_is_refused():
    def edit(pdf):
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00")
    with pytest.raises(UncleanableFile) as refusal:
        check_pdf(made_pdf(edit))
    assert str(refusal.value) == PDF_ACTIVE


def test_a_structure_element_attribute_is_not_taken_for_an_action():
    def edit(pdf):
        element = Dictionary(Type=Name.StructElem, S=Name.P,
                             A=Dictionary(O=Name.Layout, S=Name.Whatever))
        pdf.Root.StructTreeRoot = Dictionary(Type=Name.StructTreeRoot,
                                             K=pdf.make_indirect(element))
    check_pdf(made_pdf(edit))


@needs_exiftool
def test_the_exiftool_reader_sees_the_pdf_metadata_the_tests_rely_on(tmp_path):
    """The independent reader really reads PDFs: without this the tests above prove nothing."""
    tags = read_tags_of_pdf(tmp_path, pdf_with_everything(camera_photo()))
    assert tags["PDF:Author"] == PDF_AUTHOR and located(tags)


def read_tags_of_pdf(tmp_path, data):
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return read_tags(path)
