"""Personal data in complaints: masking for display, redaction of free text, clean attachments.

Pure functions only; the form server decides when to call them.

- ``mask_*`` shorten a resident's own details for display ("陳**", "****4567").
- ``redact_text`` replaces identifiers that anyone wrote into free text by labelled
  placeholders such as 〔電話已隱藏〕.
- ``strip_gps`` removes the location from a photo and keeps everything else byte for byte;
  ``clean_image`` and ``clean_pdf`` rebuild a file without any metadata. All three fail
  closed: a file they cannot clean raises ``UncleanableFile``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import struct
import unicodedata
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

import phonenumbers
import pillow_heif
from PIL import Image, ImageCms, ImageOps
from pypdf import PdfReader, PdfWriter
from stdnum.cn import ric

pillow_heif.register_heif_opener()

REGIONS = ("HK", "MO", "TW", "CN")

PLACEHOLDERS = {
    "phone": "〔電話已隱藏〕",
    "email": "〔電郵已隱藏〕",
    "hkid": "〔身份證號碼已隱藏〕",
    "cn_id": "〔身份證號碼已隱藏〕",
    "tw_id": "〔身份證號碼已隱藏〕",
    "document": "〔證件號碼已隱藏〕",
    "plate": "〔車牌已隱藏〕",
    "name": "〔姓名已隱藏〕",
    "unit": "〔單位已隱藏〕",
}

OWN_KINDS = ("name", "unit", "phone", "email")

PHOTO_REFUSAL = "這張相片無法清除其中的個人資料，未能接受。請改用其他相片或截圖。"
PDF_REFUSAL = "這份 PDF 檔案無法清除其中的個人資料，未能接受。請改用其他檔案或相片。"


class UncleanableFile(ValueError):
    """A file we cannot clean of personal data; the message can be shown to the resident."""

    def __init__(self, message: str = PHOTO_REFUSAL) -> None:
        super().__init__(message)


# --------------------------------------------------------------------------- masking


def mask_name(name: str) -> str:
    """Keep the first letter of the name and one star for every other letter."""
    words = name.split()
    if not words:
        return ""
    first, *others = words
    if len(first) == 1 and not others:
        return first + "*"  # a lone letter is the whole name; don't show it as it is
    return " ".join([first[0] + "*" * (len(first) - 1), *("*" * len(word) for word in others)])


def mask_phone(phone: str) -> str:
    digits = _decimal_digits(phone)
    if not digits:
        return ""
    return "****" + (digits[-4:] if len(digits) > 4 else "")


def mask_email(email: str) -> str:
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at:
        return "***"
    return local[:1] + "***@" + domain


_BLOCK = re.compile(
    r"(?:第\s*)?[0-9A-Za-z]{1,3}\s*[座棟栋幢]"
    r"|\b(?:Block|Blk|Tower)\.?\s*[0-9A-Za-z]{1,3}\b",
    re.IGNORECASE,
)


def mask_unit(unit: str) -> str:
    """Keep only the block: "第3座 12樓 B室" → "第3座", "Block 3, 12/F, Flat B" → "Block 3"."""
    found = _BLOCK.search(_for_matching(unit))
    if found is None:
        return PLACEHOLDERS["unit"]
    return unit[found.start() : found.end()]


def _decimal_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())


# --------------------------------------------------------------------------- ID numbers


_HKID = re.compile(r"([A-Z]{1,2})([0-9]{6})\(?([0-9A])\)?")


def hkid_is_valid(number: str) -> bool:
    """Hong Kong identity card number, e.g. "A123456(3)" or "A1234563" (case and spaces ignored)."""
    compact = re.sub(r"\s", "", number).upper()
    found = _HKID.fullmatch(compact)
    if found is None or compact.count("(") != compact.count(")"):
        return False
    letters, digits, check = found.groups()
    # A single-letter prefix is padded with a space, which counts as 36.
    values = [36 if char == " " else ord(char) - 55 for char in letters.rjust(2)]
    values += [int(digit) for digit in digits]
    total = sum(value * weight for value, weight in zip(values, range(9, 1, -1), strict=True))
    return (total + (10 if check == "A" else int(check))) % 11 == 0


# The letter of a Taiwan ID stands for a two-digit number; I and O came last.
_TW_LETTER_VALUES = {letter: value for value, letter in enumerate("ABCDEFGHJKLMNPQRSTUVXYWZIO", 10)}
_TWID = re.compile(r"[A-Z][12ABCD89][0-9]{8}")


def twid_is_valid(number: str) -> bool:
    """Taiwan national ID (A123456789) or resident certificate (old AB12345678, new A812345678)."""
    compact = number.strip().upper()
    if _TWID.fullmatch(compact) is None:
        return False
    letter, second, rest = compact[0], compact[1], compact[2:]
    # Old resident certificates carry a second letter; only the last digit of its value counts.
    second_digit = _TW_LETTER_VALUES[second] % 10 if second.isalpha() else int(second)
    tens, units = divmod(_TW_LETTER_VALUES[letter], 10)
    digits = [tens, units, second_digit, *map(int, rest)]
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    return sum(digit * weight for digit, weight in zip(digits, weights, strict=True)) % 10 == 0


def cnid_is_valid(number: str) -> bool:
    """Mainland resident identity card number (18 characters, checked with python-stdnum)."""
    return ric.is_valid(number)


# --------------------------------------------------------------------------- finding personal data

# Matching runs over a copy of the text with full-width and look-alike characters mapped one to
# one onto ASCII, so that spans found in the copy are spans of the original text.
_TO_ASCII = str.maketrans(
    {
        **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        "\u00a0": " ",
        "\u202f": " ",
        **{chr(code): "-" for code in range(0x2010, 0x2016)},
        "\u2212": "-",
        "\ufe63": "-",
    }
)


def _for_matching(text: str) -> str:
    return text.translate(_TO_ASCII)


_PLACEHOLDER_OR_REFERENCE = re.compile(
    "|".join(map(re.escape, sorted(set(PLACEHOLDERS.values()))))
    # Reference numbers of this system, e.g. HK-20261127-7KQ4.
    + r"|(?<![A-Za-z0-9])[A-Z]{2,4}-20[0-9]{6}-[A-Z0-9]{4,8}(?![A-Za-z0-9])"
)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9])"
)
_HKID_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,2} ?[0-9]{6} ?(?:\([0-9Aa]\)|[0-9Aa])(?![A-Za-z0-9])"
)
_CNID_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])[1-9][0-9]{5} ?[0-9]{8} ?[0-9]{3}[0-9Xx](?![A-Za-z0-9])"
)
_TWID_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][12ABCDabcd89][0-9]{8}(?![A-Za-z0-9])")

# Hong Kong and mainland passports and travel permits (H/K/E/G/C + 8 digits, EA1234567):
# nothing else in a complaint looks like these.
_DOCUMENT = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z][0-9]{8}|E[A-Z][0-9]{7})(?![A-Za-z0-9])")
_DOCUMENT_AFTER_CUE = re.compile(
    r"(?:護照|护照|passport|通行證|通行证|回鄉證|回乡证|台胞證|台胞证|旅行證件|證件|证件|permit)"
    r"[^0-9A-Za-z\n]{0,8}(?:(?:no|number)\b\.?[^0-9A-Za-z\n]{0,3})?"
    r"(?P<number>[A-Za-z]{0,2}[0-9]{7,10})(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_PROVINCES = (
    "京津沪滬渝冀豫云雲辽遼黑湘皖鲁魯新苏蘇浙赣贛鄂桂甘晋晉蒙陕陝吉闽閩贵貴粤粵青藏川宁寧琼瓊"
)
_MAINLAND_PLATE = re.compile(
    rf"[{_PROVINCES}][A-Za-z][·・•‧. -]?"
    r"(?:[A-Za-z0-9]{5,6}[挂掛學学警]?|[A-Za-z0-9]{4}[港澳])(?![A-Za-z0-9])"
)
_TAIWAN_PLATE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z]{3}-[0-9]{4}(?![A-Za-z0-9-])")
# Shapes that are plates only when the text is about cars.
_PLATE_NEEDING_CUE = re.compile(
    r"(?<![A-Za-z0-9-])(?:"
    r"[A-HJ-NPR-Z]{2} ?[1-9][0-9]{0,3}"  # Hong Kong: AB 1234 (no I, O or Q)
    r"|[0-9]{4}-[A-Za-z]{2}|[A-Za-z]{2}-[0-9]{4}|[0-9]{3}-[A-Za-z]{3}"  # older Taiwan shapes
    r")(?![A-Za-z0-9-]|[年月日號号樓楼層层座室/:%]|\.[0-9])"
)
_CAR_CUE = re.compile(r"車|车|泊|停|plate|vehicle|car\b|reg\.? ?no", re.IGNORECASE)
_CUE_DISTANCE = 12

_CURRENCY_BEFORE = re.compile(
    r"(?:\$|¥|￥|HKD|RMB|MOP|NTD|港幣|港币|人民幣|人民币|澳門幣)\s*$", re.IGNORECASE
)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|圓|蚊|塊|块|萬|万|港元|HKD|RMB|MOP)", re.IGNORECASE)

Span = tuple[int, int, str]


def find_personal_data(
    text: str,
    *,
    region: str = "HK",
    own: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
) -> list[Span]:
    """Spans (start, end, kind) of personal data in text, without overlaps, in text order.

    Kinds are the keys of PLACEHOLDERS. Placeholders already in the text and reference numbers
    of this system are never reported.
    """
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, not {region!r}")
    matching = _for_matching(text)
    protected = [found.span() for found in _PLACEHOLDER_OR_REFERENCE.finditer(matching)]
    candidates = [
        *_own_values(matching, own, region),
        *_id_numbers(matching),
        *_documents(matching),
        *_plates(matching),
        *((found.start(), found.end(), "email") for found in _EMAIL.finditer(matching)),
        *_phones(matching, region),
    ]
    chosen: list[Span] = []
    taken = list(protected)
    # Longest first, so "+852 9123 4567" wins over a shorter reading of part of it.
    for start, end, kind in sorted(candidates, key=lambda span: span[0] - span[1]):
        if start < end and all(
            end <= other_start or other_end <= start for other_start, other_end in taken
        ):
            chosen.append((start, end, kind))
            taken.append((start, end))
    return sorted(chosen)


def redact_text(
    text: str,
    *,
    region: str = "HK",
    own: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
) -> str:
    """Replace personal data in free text by placeholders such as 〔電話已隱藏〕.

    region: the region tried first for phone numbers without a country code (one of REGIONS).
    own: the resident's own details, as a mapping (or (kind, value) pairs) with the keys
    "name", "unit", "phone" and "email"; each is redacted wherever it appears, also in other
    spellings (without spaces, other spacing of the phone digits, "3座12樓B" for "第3座 12樓 B室").
    """
    own = _own_mapping(own)
    # A replacement can make a new identifier visible (a neighbour that was glued to a letter),
    # so repeat until nothing is found. Every round turns text into placeholders, so it ends.
    while spans := find_personal_data(text, region=region, own=own):
        for start, end, kind in reversed(spans):
            text = text[:start] + PLACEHOLDERS[kind] + text[end:]
    return text


def _own_mapping(own: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    values = dict(own or {})
    unknown = set(values) - set(OWN_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of own values: {sorted(unknown)}")
    return {kind: value for kind, value in values.items() if value and value.strip()}


def _phones(matching: str, region: str) -> Iterator[Span]:
    regions = [region, *(other for other in REGIONS if other != region)]
    # phonenumbers refuses numbers glued to Latin letters ("Tel91234567"); a second copy with
    # letters blanked out finds those too.
    blanked = re.sub(r"[A-Za-z]", " ", matching)
    for copy in (matching, blanked):
        for each_region in regions:
            for found in phonenumbers.PhoneNumberMatcher(
                copy, each_region, leniency=phonenumbers.Leniency.VALID
            ):
                if not _is_amount(matching, found.start, found.end):
                    yield found.start, found.end, "phone"


def _is_amount(matching: str, start: int, end: int) -> bool:
    return bool(
        _CURRENCY_BEFORE.search(matching[max(0, start - 6) : start])
        or _CURRENCY_AFTER.match(matching[end : end + 4])
    )


def _id_numbers(matching: str) -> Iterator[Span]:
    for pattern, is_valid, kind in (
        (_HKID_IN_TEXT, hkid_is_valid, "hkid"),
        (_CNID_IN_TEXT, cnid_is_valid, "cn_id"),
        (_TWID_IN_TEXT, twid_is_valid, "tw_id"),
    ):
        for found in pattern.finditer(matching):
            if is_valid(found.group().replace(" ", "").upper()):
                yield found.start(), found.end(), kind


def _documents(matching: str) -> Iterator[Span]:
    for found in _DOCUMENT.finditer(matching):
        yield found.start(), found.end(), "document"
    for found in _DOCUMENT_AFTER_CUE.finditer(matching):
        yield found.start("number"), found.end("number"), "document"


def _plates(matching: str) -> Iterator[Span]:
    for found in _MAINLAND_PLATE.finditer(matching):
        if sum(char.isdigit() for char in found.group()) >= 3:
            yield found.start(), found.end(), "plate"
    for found in _TAIWAN_PLATE.finditer(matching):
        yield found.start(), found.end(), "plate"
    for found in _PLATE_NEEDING_CUE.finditer(matching):
        start, end = found.span()
        if _CAR_CUE.search(matching[max(0, start - _CUE_DISTANCE) : end + _CUE_DISTANCE]):
            yield start, end, "plate"


def _own_values(
    matching: str, own: Mapping[str, str] | Iterable[tuple[str, str]] | None, region: str
) -> Iterator[Span]:
    builders = {
        "name": _name_patterns,
        "unit": _unit_patterns,
        "phone": lambda value: _phone_patterns(value, region),
        "email": lambda value: [re.escape(value.strip())],
    }
    for kind, value in _own_mapping(own).items():
        for pattern in builders[kind](_for_matching(value)):
            for found in re.finditer(pattern, matching, re.IGNORECASE):
                yield found.start(), found.end(), kind


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LATIN_LETTER = r"[A-Za-z\u00c0-\u024f]"


def _is_han(char: str) -> bool:
    return (
        "\u3400" <= char <= "\u9fff"
        or "\uf900" <= char <= "\ufaff"
        or "\U00020000" <= char <= "\U0003134f"
    )


def _name_patterns(name: str) -> list[str]:
    patterns = []
    # Chinese names: the characters with any spacing between them.
    han = [char for char in name if _is_han(char)]
    if len(han) >= 2:
        patterns.append(r"\s*".join(map(re.escape, han)))
    # Other names: the words in their order and with the surname last (Chan Tai Man, Tai Man
    # Chan), with spaces, hyphens or nothing between them.
    words = _WORD.findall("".join(" " if _is_han(char) else char for char in name))
    if len(words) >= 2 or (words and len(words[0]) >= 4):
        orders = [words, words[1:] + words[:1]] if len(words) > 1 else [words]
        for order in orders:
            body = r"[\s.,·-]*".join(r"[\s-]*".join(map(re.escape, word)) for word in order)
            patterns.append(rf"(?<!{_LATIN_LETTER}){body}(?!{_LATIN_LETTER})")
    return patterns


_UNIT_TOKEN = re.compile(r"[0-9A-Za-z]+|[^\s0-9A-Za-z,，、/.\-]")
_OPTIONAL_UNIT_WORDS = {"第", "室", "flat", "room", "rm", "unit"}


def _unit_patterns(unit: str) -> list[str]:
    def pattern_of(tokens: list[str]) -> str:
        separator = r"[\s,，、/.\-]*"
        body = ""
        for index, token in enumerate(tokens):
            optional = token.lower() in _OPTIONAL_UNIT_WORDS
            if index == 0:
                body = f"(?:{re.escape(token)}{separator})?" if optional else re.escape(token)
            elif optional:  # the separator goes with the word, so "B室" never ends in a comma
                body += f"(?:{separator}{re.escape(token)})?"
            else:
                body += separator + re.escape(token)
        return rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])"

    tokens = _UNIT_TOKEN.findall(unit)
    if not any(token.isdigit() for token in tokens):
        return []
    patterns = [pattern_of(tokens)]
    # The floor and flat alone ("12樓B室") also point at the resident.
    block = _BLOCK.search(unit)
    if block is not None:
        rest = _UNIT_TOKEN.findall(unit[: block.start()] + " " + unit[block.end() :])
        if sum(token.isalnum() and token.isascii() for token in rest) >= 2:
            patterns.append(pattern_of(rest))
    return patterns


def _phone_patterns(phone: str, region: str) -> list[str]:
    digits = re.sub(r"[^0-9]", "", phone)
    with contextlib.suppress(phonenumbers.NumberParseException):
        digits = str(phonenumbers.parse(phone, region).national_number)
    if len(digits) < 6:
        return []
    country_code = r"(?:(?:\+|00)\s*\(?(?:852|853|886|86)\)?[\s-]*)?"
    return [rf"(?<![0-9]){country_code}0?" + r"[\s-]?".join(digits) + r"(?![0-9])"]


# --------------------------------------------------------------------------- photos


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132


@contextlib.contextmanager
def _opened_image(data: bytes) -> Iterator[Image.Image]:
    """The image in data, or UncleanableFile; decompression bombs count as uncleanable."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Exception as error:
            raise UncleanableFile() from error
        with image:
            # Also checked here because catch_warnings is process-wide, not per thread.
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and image.width * image.height > limit:
                raise UncleanableFile()
            yield image


def photo_capture_time(data: bytes) -> str | None:
    """When the photo was taken, "YYYY-MM-DD HH:MM:SS", from its EXIF; None if unknown."""
    try:
        with _opened_image(data) as image:
            exif = image.getexif()
            taken = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except Exception:
        return None
    if isinstance(taken, bytes):
        taken = taken.decode("ascii", "replace")
    if not isinstance(taken, str):
        return None
    taken = taken.strip("\x00 ")
    for layout in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(taken, layout).strftime("%Y-%m-%d %H:%M:%S")
    return None


def strip_gps(data: bytes) -> bytes:
    """The photo without its location; pixels and all other metadata (orientation too) kept as is.

    JPEG, PNG and WebP are edited in place; HEIC has its EXIF overwritten where it lies. XMP that
    mentions GPS is dropped, and so is everything that JPEG carries after the end of the image
    (motion-photo videos, extra MPF images with their own EXIF). Raises UncleanableFile.
    """
    with _opened_image(data) as image:
        image_format = image.format
        xmp = image.info.get("xmp")
    strippers = {
        "JPEG": _jpeg_without_gps,
        "MPO": _jpeg_without_gps,
        "PNG": _png_without_gps,
        "WEBP": _webp_without_gps,
        "HEIF": lambda data: _heif_without_gps(data, xmp),
    }
    if image_format not in strippers:
        raise UncleanableFile()
    try:
        cleaned = strippers[image_format](data)
    except (ValueError, IndexError, KeyError, struct.error) as error:
        raise UncleanableFile() from error
    with _opened_image(cleaned) as image:
        try:
            exif = image.getexif()
            still_located = bool(exif.get_ifd(_GPS_IFD)) or _GPS_IFD in exif
        except Exception as error:
            raise UncleanableFile() from error
        if still_located or _mentions_gps(image.info.get("xmp")):
            raise UncleanableFile()
    return cleaned


def _mentions_gps(metadata: bytes | str | None) -> bool:
    if isinstance(metadata, str):
        metadata = metadata.encode("utf-8", "replace")
    return bool(metadata) and b"gps" in metadata.lower()


# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ... IFD).
_TIFF_TYPE_SIZES = dict(enumerate((1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4), start=1))


def _remove_gps_ifd(tiff: bytearray, base: int) -> None:
    """Blank the GPS IFD of the TIFF structure (EXIF) starting at tiff[base] and unlink it.

    Works in place and keeps every other byte where it was, so all other offsets stay valid.
    """
    order = {b"II": "<", b"MM": ">"}[bytes(tiff[base : base + 2])]
    magic, ifd = struct.unpack_from(order + "HI", tiff, base + 2)
    if magic != 42:
        raise ValueError("not a TIFF header")
    seen = set()
    while ifd and ifd not in seen:  # IFD0, then the thumbnail's IFD1
        seen.add(ifd)
        position = base + ifd
        (count,) = struct.unpack_from(order + "H", tiff, position)
        end = position + 2 + 12 * count + 4
        (next_ifd,) = struct.unpack_from(order + "I", tiff, end - 4)
        for index in range(count):
            entry = position + 2 + 12 * index
            tag, _, _, gps_offset = struct.unpack_from(order + "HHII", tiff, entry)
            if tag == _GPS_IFD:
                _blank_ifd(tiff, base, gps_offset, order)
                # Close the gap: later entries and the next-IFD offset move up one slot.
                tiff[entry : end - 12] = tiff[entry + 12 : end]
                tiff[end - 12 : end] = bytes(12)
                struct.pack_into(order + "H", tiff, position, count - 1)
                break
        ifd = next_ifd


def _blank_ifd(tiff: bytearray, base: int, offset: int, order: str) -> None:
    position = base + offset
    (count,) = struct.unpack_from(order + "H", tiff, position)
    end = position + 2 + 12 * count + 4
    if end > len(tiff):
        raise ValueError("GPS IFD out of bounds")
    for index in range(count):
        _, kind, number, value = struct.unpack_from(order + "HHII", tiff, position + 2 + 12 * index)
        size = _TIFF_TYPE_SIZES[kind] * number
        if size > 4:  # the value lies outside the entry
            if base + value + size > len(tiff):
                raise ValueError("GPS value out of bounds")
            tiff[base + value : base + value + size] = bytes(size)
    tiff[position:end] = bytes(end - position)


_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"


def _jpeg_without_gps(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    cleaned = bytearray(b"\xff\xd8")
    position = 2
    while True:
        if data[position] != 0xFF:
            raise ValueError("lost track of the JPEG markers")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
        elif marker == 0xD9:  # end of image: what follows is dropped
            return bytes(cleaned + b"\xff\xd9")
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            cleaned += data[position : position + 2]
            position += 2
        else:
            (length,) = struct.unpack_from(">H", data, position + 2)
            end = position + 2 + length
            if end > len(data):
                raise ValueError("truncated JPEG segment")
            cleaned += _jpeg_segment_without_gps(marker, data[position:end])
            position = end
            if marker == 0xDA:  # start of scan: copy the compressed data up to the next marker
                scan_end = _end_of_scan(data, position)
                cleaned += data[position:scan_end]
                position = scan_end


def _jpeg_segment_without_gps(marker: int, segment: bytes) -> bytes:
    payload = segment[4:]
    if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
        edited = bytearray(segment)
        _remove_gps_ifd(edited, 10)
        return bytes(edited)
    if marker == 0xE1 and payload.startswith(_XMP_HEADER) and _mentions_gps(payload):
        return b""
    # Extended XMP is split in pieces that cannot be searched one by one; it holds depth maps
    # and the like, nothing needed to show the photo.
    if marker == 0xE1 and payload.startswith(_EXTENDED_XMP_HEADER):
        return b""
    if marker == 0xE2 and payload.startswith(b"MPF\x00"):  # index of the images dropped after EOI
        return b""
    return segment


def _end_of_scan(data: bytes, position: int) -> int:
    while True:
        position = data.index(b"\xff", position)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte or restart marker
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_without_gps(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    cleaned = bytearray(_PNG_SIGNATURE)
    position = len(_PNG_SIGNATURE)
    chunk_type = b""
    while chunk_type != b"IEND":
        length, chunk_type = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG chunk")
        body = data[position + 8 : end - 4]
        if chunk_type == b"eXIf":
            edited = bytearray(body)
            _remove_gps_ifd(edited, 6 if edited.startswith(b"Exif\x00\x00") else 0)
            cleaned += data[position : position + 8] + edited
            cleaned += struct.pack(">I", _png_crc(chunk_type, edited))
        elif not _png_text_may_locate(chunk_type, body):
            cleaned += data[position:end]
        position = end
    return bytes(cleaned)


def _png_crc(chunk_type: bytes, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(chunk_type))


def _png_text_may_locate(chunk_type: bytes, body: bytes) -> bool:
    if chunk_type not in (b"tEXt", b"zTXt", b"iTXt"):
        return False
    keyword, _, rest = body.partition(b"\x00")
    if keyword.startswith(b"Raw profile type"):  # ImageMagick's hex copy of EXIF or XMP
        return True
    if keyword == b"XML:com.adobe.xmp":
        compressed = chunk_type == b"zTXt" or (chunk_type == b"iTXt" and rest[:1] != b"\x00")
        return compressed or _mentions_gps(rest)
    return False


_VP8X_XMP_FLAG = 0x04


def _webp_without_gps(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    riff_end = 8 + riff_size
    if riff_end > len(data):
        raise ValueError("truncated WebP")
    chunks = []
    dropped_xmp = False
    position = 12
    while position < riff_end:
        fourcc, size = struct.unpack_from("<4sI", data, position)
        body_end = position + 8 + size
        if body_end > riff_end:
            raise ValueError("truncated WebP chunk")
        chunk_end = body_end + (size & 1)  # chunks are padded to an even length
        chunk = bytearray(data[position:chunk_end].ljust(chunk_end - position, b"\0"))
        position = chunk_end
        if fourcc == b"EXIF":
            _remove_gps_ifd(chunk, 8 + (6 if chunk[8:].startswith(b"Exif\x00\x00") else 0))
        elif fourcc == b"XMP " and _mentions_gps(chunk[8:]):
            dropped_xmp = True
            continue
        chunks.append(chunk)
    if dropped_xmp and chunks and chunks[0][:4] == b"VP8X":
        chunks[0][8] &= ~_VP8X_XMP_FLAG & 0xFF
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _heif_without_gps(data: bytes, xmp: bytes | None) -> bytes:
    # The EXIF of a HEIF file sits in an item somewhere in the file. Rather than walk the box
    # structure, try every TIFF header; a stray match inside compressed data is not a valid IFD
    # chain with a GPS tag, and strip_gps checks the result anyway.
    edited = bytearray(data)
    for header in (b"II*\x00", b"MM\x00*"):
        position = edited.find(header)
        while position != -1:
            with contextlib.suppress(ValueError, KeyError, struct.error):
                _remove_gps_ifd(edited, position)
            position = edited.find(header, position + 1)
    if xmp and _mentions_gps(xmp):
        packet = xmp if isinstance(xmp, bytes) else xmp.encode()
        if edited.count(packet) != 1:
            raise ValueError("cannot find the XMP packet that mentions GPS")
        start = edited.find(packet)
        edited[start : start + len(packet)] = b" " * len(packet)  # XMP allows padding with spaces
    return bytes(edited)


_CLEAN_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "HEIF": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def clean_image(data: bytes) -> tuple[bytes, str]:
    """The photo rebuilt from its pixels alone, turned upright; returns (bytes, extension).

    No EXIF, GPS, XMP, IPTC, ICC profile (colours are converted to sRGB), comment or text
    chunk survives. HEIC becomes JPEG; only the first frame of an animation is kept.
    """
    with _opened_image(data) as image:
        output_format = _CLEAN_FORMATS.get(image.format or "")
        if output_format is None:
            raise UncleanableFile()
        try:
            pixels = _in_srgb(ImageOps.exif_transpose(image), output_format)
            # A new image from the pixels alone: a plain re-save would carry over comments,
            # ICC profiles and XMP kept in image.info.
            fresh = Image.new(pixels.mode, pixels.size)
            fresh.paste(pixels)
            out = io.BytesIO()
            options = {} if output_format == "PNG" else {"quality": 90}
            fresh.save(out, format=output_format, **options)
        except Exception as error:
            raise UncleanableFile() from error
    return out.getvalue(), _EXTENSIONS[output_format]


def _in_srgb(image: Image.Image, output_format: str) -> Image.Image:
    has_alpha = image.has_transparency_data
    if output_format == "JPEG":
        if has_alpha:
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        mode = "L" if image.mode in ("1", "L", "I;16") else "RGB"
    else:
        mode = "RGBA" if has_alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
            return ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=mode,
            )
    return image.convert(mode)


# --------------------------------------------------------------------------- PDF


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
