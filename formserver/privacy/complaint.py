"""De-identification of a whole complaint (脫敏處理), as the office will receive it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from .matching import Finding
from .text import marked_segments, possible_personal_data, redact_text

TEXT_FIELDS = ("respondent", "subject", "description", "location", "impact", "expected_resolution")
# What the office sees instead of the resident's name and unit: nothing of them, not even the
# surname or the block (in a small estate a surname and a block identify a household).
WITHHELD = "〔投訴人要求不公開〕"


def own_details(complaint) -> dict[str, str]:
    return {"name": complaint.name, "unit": complaint.unit, "phone": complaint.phone,
            "email": complaint.email}


def deidentify(complaint, region: str, *, keep: Iterable[str] = (), also: Iterable[str] = ()):
    """The complaint with the resident's details withheld and personal data redacted from the
    free text. keep: the estate's published numbers (published_contacts of site.toml); the
    region's public numbers (999, 1823, 12345 ...) are always kept. also: words the resident
    ticked on the review page to hide as well."""
    own = own_details(complaint)
    keep, also = tuple(keep), tuple(also)
    texts = {name: redact_text(getattr(complaint, name), region=region, own=own, keep=keep,
                               also=also)
             for name in TEXT_FIELDS}
    return replace(complaint, name=WITHHELD, unit=WITHHELD, phone="", email="", anonymized=True,
                   **texts)


def deidentify_marked(complaint, region: str, *, keep: Iterable[str] = (),
                      also: Iterable[str] = ()) -> tuple[object, dict[str, list]]:
    """deidentify(), and for each free-text field its redacted text in pieces (marked_segments)
    so the review page can mark what was hidden; one redaction per field for both."""
    own = own_details(complaint)
    keep, also = tuple(keep), tuple(also)
    marks = {name: marked_segments(getattr(complaint, name), region=region, own=own, keep=keep,
                                   also=also)
             for name in TEXT_FIELDS}
    texts = {name: "".join(piece for piece, _ in pieces) for name, pieces in marks.items()}
    return replace(complaint, name=WITHHELD, unit=WITHHELD, phone="", email="", anonymized=True,
                   **texts), marks


def possibly_personal(complaint, region: str, *, keep: Iterable[str] = ()) -> list[Finding]:
    """What the review page asks about: the possible findings of every free-text field of the
    complaint as the resident typed it, each text once, in the order of the fields. Ticked
    ones go back to deidentify as `also`."""
    seen, found = set(), []
    for name in TEXT_FIELDS:
        for finding in possible_personal_data(getattr(complaint, name), region=region,
                                              own=own_details(complaint), keep=tuple(keep)):
            if finding.text.casefold() not in seen:
                seen.add(finding.text.casefold())
                found.append(finding)
    return found


def published_contacts(site: dict, region: dict | None = None) -> tuple[str, ...]:
    """The phones and emails the estate publishes (office and committee in site.toml, the
    region's government channels): the estate's own, never a resident's."""
    found = []
    sections = [site.get("office", {}), site.get("committee", {}),
                *(region or {}).get("bodies", {}).values()]
    for section in sections:
        for key in ("phone", "email", "fax", "hotline"):
            value = section.get(key) if isinstance(section, dict) else None
            if isinstance(value, str) and value.strip() and "〔待核實〕" not in value:
                found.append(re.sub(r"^〔示例〕", "", value.strip()))
    return tuple(found)
