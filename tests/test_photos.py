"""Photos tagged by exiftool wherever a location can hide: thumbnails with their own EXIF,
Photoshop's APP13 copies, XMP, PNG text; read back with exiftool."""

from __future__ import annotations

import io

import pytest
from crafted import exiftool_bytes, leaks, located, needs_exiftool, read_tags, write_tags
from helpers import CAMERA_MODEL, camera_photo, painted_image, with_photoshop_copies
from PIL import Image

from formserver.privacy.photos import clean_image, photo_pixels, strip_gps

pytestmark = needs_exiftool

PHOTO_SECRETS = ("Chan Tai", "12B", CAMERA_MODEL, "Canon", "2024")


def saved(tmp_path, data: bytes, name: str):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def stripped_tags(tmp_path, path):
    """The photo at path without its location, saved beside it; and what exiftool reads."""
    stripped = saved(tmp_path, strip_gps(path.read_bytes()), "stripped" + path.suffix)
    return stripped, read_tags(stripped)


def thumbnail_tags(tmp_path, path) -> dict:
    thumbnail = exiftool_bytes("-b", "-ThumbnailImage", path)
    return read_tags(saved(tmp_path, thumbnail, "thumbnail.jpg")) if thumbnail else {}


def photo_with_a_located_thumbnail(tmp_path):
    """A camera JPEG whose EXIF thumbnail is itself a JPEG with EXIF and GPS."""
    thumb = saved(tmp_path, camera_photo(), "thumb.jpg")
    main = saved(tmp_path, camera_photo(), "photo.jpg")
    write_tags(main, f"-ThumbnailImage<={thumb}")
    assert located(thumbnail_tags(tmp_path, main)), "the thumbnail carries GPS"
    return main


def test_the_thumbnails_own_gps_is_removed_and_the_thumbnail_kept(tmp_path):
    stripped, tags = stripped_tags(tmp_path, photo_with_a_located_thumbnail(tmp_path))
    assert located(tags) == []
    assert tags["IFD0:Model"] == CAMERA_MODEL
    thumbnail = thumbnail_tags(tmp_path, stripped)
    assert thumbnail and located(thumbnail) == []
    assert thumbnail["IFD0:Model"] == CAMERA_MODEL  # its other EXIF stays, like the photo's


def test_a_deidentified_photo_has_no_thumbnail_and_no_tag(tmp_path):
    main = photo_with_a_located_thumbnail(tmp_path)
    cleaned, _ = clean_image(main.read_bytes())
    path = saved(tmp_path, cleaned, "cleaned.jpg")
    tags = read_tags(path)
    assert leaks(tags, PHOTO_SECRETS) == [] and located(tags) == []
    assert thumbnail_tags(tmp_path, path) == {}
    assert not [key for key in tags if key.split(":")[0] in ("IFD0", "IFD1", "ExifIFD", "GPS")]


def test_photoshops_copies_of_exif_and_xmp_lose_their_gps(tmp_path):
    original = saved(tmp_path, with_photoshop_copies(camera_photo()), "original.jpg")
    assert len(located(read_tags(original))) > 4
    _, tags = stripped_tags(tmp_path, original)
    assert located(tags) == []
    assert tags["IFD0:Model"] == CAMERA_MODEL


def test_iptc_and_xmp_written_by_exiftool_lose_only_the_location(tmp_path):
    photo = saved(tmp_path, camera_photo(), "photo.jpg")
    write_tags(photo, "-IPTC:By-line=Chan Tai Man", "-IPTC:Caption-Abstract=lift at 12B",
               "-XMP:GPSLatitude=22.2783", "-XMP:GPSLongitude=114.1747",
               "-XMP:Creator=Chan Tai Man")
    _, tags = stripped_tags(tmp_path, photo)
    assert located(tags) == []
    assert tags["IPTC:By-line"] == "Chan Tai Man"  # not a location: kept without 脫敏
    cleaned, _ = clean_image(photo.read_bytes())
    assert leaks(read_tags(saved(tmp_path, cleaned, "cleaned.jpg")), PHOTO_SECRETS) == []


def png(tmp_path):
    out = io.BytesIO()
    painted_image().save(out, format="PNG")
    path = saved(tmp_path, out.getvalue(), "photo.png")
    write_tags(path, "-PNG:Title=lift at 12B", "-PNG:Comment=GPS 22.2783 114.1747",
               "-PNG:Author=Chan Tai Man", "-EXIF:GPSLatitude=22.2783",
               "-EXIF:GPSLatitudeRef=N", "-EXIF:GPSLongitude=114.1747",
               "-EXIF:GPSLongitudeRef=E", "-EXIF:Model=" + CAMERA_MODEL,
               "-XMP:GPSLatitude=22.2783", "-XMP:GPSLongitude=114.1747")
    assert len(located(read_tags(path))) > 3
    return path


def test_png_text_exif_and_xmp_lose_their_location(tmp_path):
    stripped, tags = stripped_tags(tmp_path, png(tmp_path))
    assert located(tags) == []
    assert tags["PNG:Title"] == "lift at 12B" and tags["PNG:Author"] == "Chan Tai Man"
    with Image.open(stripped) as image:
        image.load()


def test_a_deidentified_png_has_no_text_at_all(tmp_path):
    cleaned, _ = clean_image(png(tmp_path).read_bytes())
    tags = read_tags(saved(tmp_path, cleaned, "cleaned.png"))
    assert leaks(tags, PHOTO_SECRETS) == [] and located(tags) == []
    assert not [key for key in tags if key.split(":")[0] in ("PNG", "IFD0", "GPS")
                and key.split(":")[1] not in ("ImageWidth", "ImageHeight", "BitDepth",
                                              "ColorType", "Compression", "Filter",
                                              "Interlace")]


@pytest.mark.parametrize("image_format", ["WEBP", "HEIF"])
def test_webp_and_heic_tagged_by_exiftool_lose_their_location(tmp_path, image_format):
    path = saved(tmp_path, camera_photo(image_format), f"photo.{image_format.lower()}")
    write_tags(path, "-XMP:GPSLatitude=22.2783", "-XMP:GPSLongitude=114.1747",
               "-EXIF:GPSLatitude=22.2783", "-EXIF:GPSLatitudeRef=N")
    assert located(read_tags(path))
    assert located(stripped_tags(tmp_path, path)[1]) == []


def test_the_pixel_count_is_read_without_decoding(tmp_path):
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, format="PNG")
    assert photo_pixels(out.getvalue()) == 81_000_000
