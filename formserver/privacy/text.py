"""Personal data in free text, found and replaced by labelled placeholders (〔電話已隱藏〕).

Two levels: a CERTAIN finding is hidden without asking; a POSSIBLE one (a name the tagger was
unsure of, a long number with no cue, another flat of the estate) is shown to the resident,
who may tick it to hide it (``also``). The finders, one module per kind of data:

- identity: the resident's own name, unit, phone and email in their other spellings;
- documents: identity cards (with check digits), passports and permits, dates of birth;
- payments: cards (Luhn) and bank accounts; contacts: phones and emails;
- handles: messaging handles and personal web addresses; addresses: streets and other flats;
- names, latin_names: other people's names; plates: vehicle plates;
- protected: what is never personal data (references, work orders, public numbers, ``keep``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping

from . import segmenter
from .addresses import find_addresses, find_other_flats
from .aliases import find_named_by_context, further_mentions
from .contacts import find_emails, find_phones, is_amount
from .documents import find_birth_dates, find_documents
from .given_names import find_given_names
from .handles import find_handles, find_urls
from .identity import own_mapping, own_values
from .latin_names import find_latin_names, given_name_syllables
from .matching import PLACEHOLDER, PLACEHOLDERS, REGIONS, Finding, for_matching, hinted
from .names import find_chinese_names
from .payments import find_payment_numbers
from .plates import find_plates
from .protected import is_kept, kept_values, protected_spans
from .roles import in_role
from .romanisation import surname_spellings

Own = Mapping[str, str] | Iterable[tuple[str, str]] | None

# Kinds whose check digits make them certain even inside what looks like a reference number
# (not cards: one number in ten passes the Luhn check by chance).
_CHECKED = ("hkid", "cn_id", "tw_id")
# Kinds that a published number or address (keep) can be.
_KEEPABLE = ("phone", "email", "number", "handle", "url", "account")
_LONG_NUMBER = hinted(r"(?<![0-9A-Za-z])[0-9](?:[ \-]?[0-9]){6,}(?![0-9A-Za-z])", "0-9")
_DATE_OR_TIME = re.compile(r"^(?:19|20)[0-9]{2}[01][0-9][0-3][0-9](?:[0-2][0-9][0-5][0-9])?$")


def find_personal_data(text: str, *, region: str = "HK", own: Own = None,
                       keep: Iterable[str] = ()) -> list[Finding]:
    """Every finding, certain and possible, without overlaps, in text order.

    region: the region tried first for phones (one of REGIONS; the others are tried too).
    own: the resident's own details, "name", "unit", "phone" and "email" (a mapping or pairs);
    each is found in its other spellings. keep: numbers and words that are public (the
    estate's office and committee phones); the region's emergency and government numbers are
    always kept. Placeholders already in the text and reference numbers are never reported.
    """
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, not {region!r}")
    own = own_mapping(own)
    matching = for_matching(text)
    simplified = segmenter.simplified(matching)
    others = [
        *find_documents(matching),
        *find_birth_dates(matching),
        *find_payment_numbers(matching),
        *find_plates(matching),
        *find_emails(matching),
        *find_phones(matching, region),
        *find_handles(matching),
        *find_urls(matching),
        *find_addresses(matching),
        *find_chinese_names(simplified),
        *find_latin_names(matching, simplified),
        *find_given_names(matching, simplified),
        *find_named_by_context(matching, simplified),
        *find_other_flats(matching),
        *_long_numbers(matching),
    ]
    kept_digits, kept_words = kept_values(tuple(keep), region)
    others = [candidate for candidate in others if candidate[2] not in _KEEPABLE
              or not is_kept(matching[candidate[0]:candidate[1]], kept_digits, kept_words)]
    protected = list(protected_spans(matching))
    candidates = [
        (start, end, kind, certain)
        for start, end, kind, certain in (*own_values(matching, own, region, simplified), *others)
        if start < end and (kind in _CHECKED or not any(start < p_end and p_start < end
                                                        for p_start, p_end in protected))
    ]
    chosen = _without_overlaps(candidates)
    again = list(_other_mentions(matching, simplified, chosen, protected))
    if again:
        chosen = _without_overlaps([*chosen, *again])
    if upgraded := [*_same_flats(matching, chosen), *_names_with_contacts(matching, chosen)]:
        chosen = _without_overlaps([*chosen, *upgraded])
    return [Finding(start, end, kind, certain, text[start:end])
            for start, end, kind, certain in chosen]


def _same_flats(matching: str, chosen: list) -> Iterator[tuple[int, int, str, bool]]:
    """A flat found to be someone's home once (1602业主) is so wherever else it is written
    (楼上的1602)."""
    homes = {re.sub(r"\s+", "", matching[start:end]).casefold()
             for start, end, kind, certain in chosen if kind == "address" and certain}
    for start, end, kind, certain in chosen:
        if kind == "unit" and not certain and \
                re.sub(r"\s+", "", matching[start:end]).casefold() in homes:
            yield start, end, "address", True
    # A short one found once (隔壁B座2104) is the same home written alone (B座2104 嘅住戶).
    for home in {matching[start:end] for start, end, kind, certain in chosen
                 if kind == "address" and certain and end - start <= 8}:
        for found in re.finditer(rf"(?<![0-9A-Za-z]){re.escape(home)}(?![0-9A-Za-z])", matching):
            yield found.start(), found.end(), "address", True


_BEFORE_A_CONTACT = re.compile(r"[\s,，:：(（/<]{1,3}")


def _names_with_contacts(matching: str, chosen: list) -> Iterator[tuple[int, int, str, bool]]:
    """A possible name written right before a phone or an email (a list of contacts: Eric Ho
    eric@example.com, Peter Chan 9123 4567) is someone's name."""
    contacts = {start for start, _, kind, certain in chosen
                if certain and kind in ("phone", "email")}
    for start, end, kind, certain in chosen:
        if kind == "person" and not certain and any(
                _BEFORE_A_CONTACT.fullmatch(matching, end, contact)
                for contact in contacts if 0 < contact - end <= 3):
            yield start, end, "person", True


def _other_mentions(matching: str, simplified: str, chosen: list, protected: list
                    ) -> Iterator[tuple[int, int, str, bool]]:
    """A person's name found for certain once is a name wherever else it is written (吳詠琪讀緊
    小學。吳詠琪嘅出世紙), unless it is written next to a staff role there."""
    spans = [(start, end) for start, end, kind, certain in chosen
             if kind == "person" and certain and end - start >= 2]
    if not spans:
        return
    yield from further_mentions(matching, simplified, spans)
    yield from _flats_of(matching, chosen, spans)
    names = {matching[start:end] for start, end in spans}
    hidden = {start for start, _, _, certain in chosen if certain}
    for name in names:
        position = matching.find(name)
        while position >= 0:
            start, end = position, position + len(name)
            if start not in hidden and not in_role(simplified, start, end) and not any(
                    start < p_end and p_start < end for p_start, p_end in protected):
                yield start, end, "person", True
            position = matching.find(name, end)


_BETWEEN_NAME_AND_FLAT = re.compile(r"[\s\-–—,，、:：(（]{1,4}|,?\s+(?:of|at|in|from)\s+")
_BETWEEN_FLAT_AND_NAME = re.compile(r"\s*(?:的|嘅|之|嗰個|嗰个|那個|那个|那位|嗰位)?\s*")


def _flats_of(matching: str, chosen: list, names: list[tuple[int, int]]
              ) -> Iterator[tuple[int, int, str, bool]]:
    """A flat written right after someone's name (陳大偉 — 第2座 15樓C室, a witness list, Mr Lau
    of Flat D, 22/F), or right before it (楼下502的刘阿姨), is where they live."""
    name_ends = {end for _, end in names}
    name_starts = {start for start, _ in names}
    for start, end, kind, certain in chosen:
        if kind == "unit" and not certain and (any(
                _BETWEEN_NAME_AND_FLAT.fullmatch(matching, name_end, start)
                for name_end in name_ends if 0 < start - name_end <= 7) or any(
                _BETWEEN_FLAT_AND_NAME.fullmatch(matching, end, name_start)
                for name_start in name_starts if 0 <= name_start - end <= 3)):
            yield start, end, "address", True


def preload() -> None:
    """Load the segmenter's dictionary, the Cantonese and Mandarin readings (ToJyutping,
    pypinyin) and the romanisation tables now (about 4 s), e.g. in a worker before its first
    request; otherwise the first redaction in a process does it."""
    segmenter.preload()
    given_name_syllables()
    surname_spellings("陳")


def possible_personal_data(text: str, *, region: str = "HK", own: Own = None,
                           keep: Iterable[str] = ()) -> list[Finding]:
    """The findings that are not hidden unless the resident asks (for the review page)."""
    return [finding for finding in find_personal_data(text, region=region, own=own, keep=keep)
            if not finding.certain]


def redact_text(text: str, *, region: str = "HK", own: Own = None, keep: Iterable[str] = (),
                also: Iterable[str] = ()) -> str:
    """The text with every certain finding replaced by its placeholder (〔電話已隱藏〕), and every
    occurrence of each of `also` (words the resident ticked on the review page) too."""
    own = own_mapping(own)
    also = tuple(word for word in also if word and word.strip())
    found = find_personal_data(text, region=region, own=own, keep=keep)
    # The kind of each word the resident ticked (the review page offered it), for its label.
    kinds = {finding.text.casefold(): finding.kind for finding in found if not finding.certain}
    findings = _merged([finding for finding in found if finding.certain],
                       list(_also_findings(text, also, kinds)))
    # A replacement can make a new identifier visible (a neighbour that was glued to it, or
    # that lost a character to it), so look again until nothing is found. Every round turns
    # text into placeholders, which are never matched again, so it ends. (Looking again only
    # around replacements was tried: rules read too much context for any window to be exact.)
    while findings:
        text = _replaced(text, findings)
        findings = [finding for finding in find_personal_data(text, region=region, own=own,
                                                               keep=keep) if finding.certain]
        findings = _merged(findings, list(_also_findings(text, also, kinds)))
    return text


def _replaced(text: str, findings: list[Finding]) -> str:
    pieces, position = [], 0
    for finding in findings:
        pieces += [text[position:finding.start], finding.placeholder]
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def marked_segments(text: str, *, region: str = "HK", own: Own = None, keep: Iterable[str] = (),
                    also: Iterable[str] = ()) -> list[tuple[str, str | None]]:
    """The redacted text in pieces: (placeholder, its kind) for each redaction and (text, None)
    between them, so that a template can mark redactions without |safe."""
    redacted = redact_text(text, region=region, own=own, keep=keep, also=also)
    kinds = {}
    for kind, placeholder in PLACEHOLDERS.items():
        kinds.setdefault(placeholder, kind)
    segments: list[tuple[str, str | None]] = []
    position = 0
    for found in PLACEHOLDER.finditer(redacted):
        if found.start() > position:
            segments.append((redacted[position:found.start()], None))
        segments.append((found.group(), kinds.get(found.group(), "other")))
        position = found.end()
    if position < len(redacted):
        segments.append((redacted[position:], None))
    return segments


def _long_numbers(matching: str) -> Iterator[tuple[int, int, str, bool]]:
    """Seven digits or more that nothing else explains: possibly someone's number."""
    for found in _LONG_NUMBER.finditer(matching):
        digits = re.sub(r"[^0-9]", "", found.group())
        if not _DATE_OR_TIME.match(digits) and not is_amount(matching, *found.span()):
            yield found.start(), found.end(), "number", False


def _without_overlaps(candidates: list) -> list[tuple[int, int, str, bool]]:
    """Certain findings first, longest first; overlapping findings with the same placeholder
    become one; a possible finding that touches a certain one is dropped."""
    starts: list[int] = []  # the chosen findings, which never overlap, in text order
    chosen: list[tuple[int, int, str, bool]] = []
    order = sorted(candidates, key=lambda candidate: (not candidate[3],
                                                      candidate[0] - candidate[1], candidate[0]))
    for start, end, kind, certain in order:
        last = bisect.bisect_left(starts, end)  # chosen[:last] start before this one ends
        first = last
        while first > 0 and chosen[first - 1][1] > start:
            first -= 1
        overlapping = chosen[first:last]
        if overlapping and not all(PLACEHOLDERS[other[2]] == PLACEHOLDERS[kind]
                                   and other[3] == certain for other in overlapping):
            continue
        if overlapping:
            start, end = min(start, overlapping[0][0]), max(end, overlapping[-1][1])
            kind = overlapping[0][2]
        chosen[first:last] = [(start, end, kind, certain)]
        starts[first:last] = [start]
    return chosen


def _also_findings(text: str, also: tuple[str, ...], kinds: dict[str, str]
                   ) -> Iterator[Finding]:
    """Every occurrence of each word the resident ticked (kinds: their kinds, by casefold)."""
    if not also:
        return
    matching = for_matching(text)
    protected = list(protected_spans(matching))
    for word in also:
        pattern = r"\s*".join(map(re.escape, for_matching(word).split()))
        for found in re.finditer(pattern, matching, re.IGNORECASE):
            start, end = found.span()
            if not any(start < p_end and p_start < end for p_start, p_end in protected):
                kind = kinds.get(word.strip().casefold(), "other")
                yield Finding(start, end, kind, True, text[start:end])


def _merged(findings: list[Finding], extra: list[Finding]) -> list[Finding]:
    """Findings without overlaps, in text order."""
    spans = _without_overlaps([(f.start, f.end, f.kind, True) for f in (*findings, *extra)])
    return [Finding(start, end, kind, True, "") for start, end, kind, _ in spans]
