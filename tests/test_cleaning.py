"""Files cleaned of personal data: photos without GPS or rebuilt from pixels, PDFs rebuilt."""

from __future__ import annotations

import io

import pytest
from helpers import (
    CAMERA_MODEL,
    COMMENT,
    DATETIME,
    DATETIME_ORIGINAL,
    EXIF_IFD,
    GPS_IFD,
    MAKE,
    MODEL,
    ORIENTATION,
    RED,
    camera_exif,
    camera_photo,
    close,
    corners,
    painted_image,
)
from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from formserver.privacy.pdfs import clean_pdf
from formserver.privacy.photos import clean_image, photo_capture_time, strip_gps
from formserver.privacy.uncleanable import UncleanableFile, sha256_hex


def test_clean_image_rebuilds_a_jpeg_from_its_pixels_alone():
    original = camera_photo()
    cleaned, extension = clean_image(original)
    assert extension == "jpg"
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not {"exif", "comment", "xmp", "icc_profile"} & set(image.info)
        with Image.open(io.BytesIO(original)) as before:
            upright = ImageOps.exif_transpose(before)
        assert image.size == upright.size == (20, 40)
        assert all(map(close, corners(image), corners(upright)))
        assert close(image.getpixel((image.width - 3, 2)), RED)  # the red corner turned right
    for secret in (COMMENT, CAMERA_MODEL.encode(), b"GPSLatitude", b"Canon"):
        assert secret not in cleaned


def test_clean_image_drops_png_text_chunks():
    info = PngInfo()
    info.add_text("Comment", "secret comment")
    info.add_itxt("Author", "陳大文")
    out = io.BytesIO()
    painted_image().save(out, format="PNG", pnginfo=info, exif=camera_exif(orientation=1).tobytes())
    cleaned, extension = clean_image(out.getvalue())
    assert extension == "png"
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.format == "PNG"
        assert not image.getexif()
        assert not {"Comment", "Author", "exif"} & set(image.info)
        assert image.size == (40, 20)
        assert image.getpixel((2, 2)) == RED
    assert b"secret comment" not in cleaned
    assert b"tEXt" not in cleaned and b"iTXt" not in cleaned


def test_clean_image_keeps_transparency_in_png():
    image = Image.new("RGBA", (8, 8), (0, 255, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    cleaned, _ = clean_image(out.getvalue())
    with Image.open(io.BytesIO(cleaned)) as result:
        assert result.mode == "RGBA"
        assert result.getpixel((1, 1))[3] == 0


@pytest.mark.parametrize(("image_format", "extension"), [("WEBP", "webp"), ("HEIF", "jpg")])
def test_clean_image_handles_webp_and_turns_heic_into_jpeg(image_format, extension):
    cleaned, found_extension = clean_image(camera_photo(image_format))
    assert found_extension == extension
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not image.getexif()
        assert "xmp" not in image.info
        assert image.size == (20, 40)
    assert CAMERA_MODEL.encode() not in cleaned


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_strip_gps_removes_the_location_and_keeps_the_rest(image_format):
    original = camera_photo(image_format)
    stripped = strip_gps(original)
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.format == image_format
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD)
        assert GPS_IFD not in exif
        assert exif[MAKE] == "Canon"
        assert exif[MODEL] == CAMERA_MODEL
        assert exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] == "2024:03:15 14:30:00"
        xmp = image.info.get("xmp") or b""
        assert b"gps" not in (xmp.encode() if isinstance(xmp, str) else xmp).lower()
        if image_format != "HEIF":  # HEIF keeps orientation in its own box, not in EXIF
            assert exif[ORIENTATION] == 6
        with Image.open(io.BytesIO(original)) as before:
            assert image.tobytes() == before.tobytes()  # not re-encoded
    assert len(stripped) <= len(original)


def test_strip_gps_keeps_the_jpeg_comment_and_drops_what_follows_the_image():
    original = camera_photo() + b"trailing motion-photo video with GPS"
    stripped = strip_gps(original)
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.info["comment"] == COMMENT
    assert stripped.endswith(b"\xff\xd9")
    assert b"motion-photo" not in stripped


def test_strip_gps_drops_the_extra_images_of_a_multi_picture_jpeg():
    frames = [painted_image(), Image.new("RGB", (40, 20), RED)]
    out = io.BytesIO()
    frames[0].save(out, format="MPO", save_all=True, append_images=frames[1:], exif=camera_exif())
    stripped = strip_gps(out.getvalue())
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.format == "JPEG"  # the MPF index went with the second image
        assert not image.getexif().get_ifd(GPS_IFD)
        assert image.getexif()[MODEL] == CAMERA_MODEL


def test_strip_gps_leaves_a_photo_without_location_as_it_was():
    out = io.BytesIO()
    painted_image().save(out, format="JPEG")
    plain = out.getvalue()
    assert strip_gps(plain) == plain


@pytest.mark.parametrize("function", [clean_image, strip_gps])
@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\xff\xd8\xff\xe0garbage", b"\x89PNG\r\n\x1a\n" + b"\0" * 20],
)
def test_files_that_cannot_be_read_are_refused(function, data):
    with pytest.raises(UncleanableFile) as refusal:
        function(data)
    assert "無法清除" in str(refusal.value)


def test_a_truncated_jpeg_is_refused_by_strip_gps():
    with pytest.raises(UncleanableFile):
        strip_gps(camera_photo()[:-200])


def test_formats_other_than_photos_are_refused():
    out = io.BytesIO()
    painted_image().save(out, format="GIF")
    for function in (clean_image, strip_gps):
        with pytest.raises(UncleanableFile):
            function(out.getvalue())


@pytest.mark.parametrize("pixels", [144, 400])  # over the limit (a warning), over twice (an error)
@pytest.mark.parametrize("function", [clean_image, strip_gps])
def test_decompression_bombs_are_refused(monkeypatch, pixels, function):
    side = int(pixels**0.5)
    out = io.BytesIO()
    Image.new("RGB", (side, side)).save(out, format="PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(UncleanableFile):
        function(out.getvalue())


def test_photo_capture_time_reads_the_original_time():
    assert photo_capture_time(camera_photo()) == "2024-03-15 14:30:00"


def test_photo_capture_time_falls_back_to_the_file_time():
    exif = Image.Exif()
    exif[DATETIME] = "2024:03:16 09:00:00"
    out = io.BytesIO()
    painted_image().save(out, format="JPEG", exif=exif.tobytes())
    assert photo_capture_time(out.getvalue()) == "2024-03-16 09:00:00"


@pytest.mark.parametrize("stamp", [None, "not a time", "0000:00:00 00:00:00"])
def test_photo_capture_time_is_none_when_unknown(stamp):
    exif = Image.Exif()
    if stamp:
        exif[DATETIME] = stamp
    out = io.BytesIO()
    painted_image().save(out, format="JPEG", exif=exif.tobytes())
    assert photo_capture_time(out.getvalue()) is None
    assert photo_capture_time(b"garbage") is None


def test_sha256_hex():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --------------------------------------------------------------------------- PDF


def pdf_with_metadata() -> bytes:
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": "Chan Tai Man", "/Title": "Secret title"})
    writer.xmp_metadata = b"<x:xmpmeta>XMP creator Chan Tai Man</x:xmpmeta>"
    page_xmp = StreamObject()
    page_xmp.set_data(b"page XMP by Chan Tai Man")
    writer.pages[0][NameObject("/Metadata")] = writer._add_object(page_xmp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_clean_pdf_keeps_the_pages_and_drops_the_metadata():
    original = pdf_with_metadata()
    assert b"Chan Tai Man" in original
    cleaned = clean_pdf(original)
    reader = PdfReader(io.BytesIO(cleaned))
    assert len(reader.pages) == 2
    assert not reader.metadata
    assert "/Metadata" not in reader.trailer["/Root"]
    assert all("/Metadata" not in page for page in reader.pages)
    assert b"Chan Tai Man" not in cleaned
    assert b"Secret title" not in cleaned


def test_a_pdf_with_a_password_is_refused():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(UncleanableFile) as refusal:
        clean_pdf(out.getvalue())
    assert "PDF" in str(refusal.value)


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7 garbage", b"not a pdf"])
def test_files_that_are_not_pdfs_are_refused(data):
    with pytest.raises(UncleanableFile):
        clean_pdf(data)


def test_an_unreadable_photoshop_segment_goes_whole_and_the_photo_is_kept():
    import struct

    body = b"Photoshop 3.0\x008BIM\x04\x22\x00\x00\xff\xff\xff\xffGPS copy cut short"
    segment = b"\xff\xed" + struct.pack(">H", len(body) + 2) + body
    original = camera_photo()
    stripped = strip_gps(original[:2] + segment + original[2:])
    assert b"Photoshop 3.0" not in stripped and b"GPS copy" not in stripped
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.getexif()[MODEL] == CAMERA_MODEL
        assert not image.getexif().get_ifd(GPS_IFD)
