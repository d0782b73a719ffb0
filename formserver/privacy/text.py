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
from .contacts import find_emails, find_phones, is_amount
from .documents import find_birth_dates, find_documents
from .handles import find_handles, find_urls
from .identity import own_mapping, own_values
from .latin_names import find_latin_names, given_name_syllables
from .matching import (
    PLACEHOLDER,
    PLACEHOLDERS,
    REGIONS,
    Finding,
    for_matching,
    is_han,
    merged_windows,
)
from .names import find_chinese_names
from .payments import find_payment_numbers
from .plates import find_plates
from .protected import (
    ANY_ENGLISH_KEEPING_WORD,
    ANY_KEEPING_WORD,
    is_kept,
    kept_values,
    protected_spans,
)
from .roles import ANY_ENGLISH_ROLE_WORD, ANY_ROLE_WORD

Own = Mapping[str, str] | Iterable[tuple[str, str]] | None

# Kinds whose check digits make them certain even inside what looks like a reference number
# (not cards: one number in ten passes the Luhn check by chance).
_CHECKED = ("hkid", "cn_id", "tw_id")
# Kinds that a published number or address (keep) can be.
_KEEPABLE = ("phone", "email", "number", "handle", "url", "account")
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9](?:[ \-]?[0-9]){6,}(?![0-9A-Za-z])")
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
    return [Finding(start, end, kind, certain, text[start:end])
            for start, end, kind, certain in _without_overlaps(candidates)]


def preload() -> None:
    """Load the segmenter's dictionary and the romanisation tables now (about 3 s), e.g. in a
    worker before its first request; otherwise the first redaction in a process does it."""
    segmenter.preload()
    given_name_syllables()


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
    findings = [finding for finding in find_personal_data(text, region=region, own=own, keep=keep)
                if finding.certain]
    findings = _merged(findings, list(_also_findings(text, also, region, own, keep)))
    # A replacement can make a new identifier visible (a neighbour that was glued to a letter),
    # so look again around each replacement until nothing is found there. Every round turns
    # text into placeholders, which are never matched again, so it ends.
    while findings:
        text, edges = _replaced(text, findings)
        findings = _findings_near(text, edges, region, own, keep, also)
    return text


# Letters, digits (Chinese numerals too: phones are read in them) and the marks of addresses.
_GLUE = re.compile(r"[A-Za-z0-9@._%+\-()/#&＠．（）０-９Ａ-Ｚａ-ｚ"
                   r"〇零一二三四五六七八九十百幺兩两]")
_SEPARATOR = "\n\n\n"  # between the stretches looked at together
_DIGIT = re.compile("[0-9０-９〇零一二三四五六七八九幺兩两]")


def _touches(edge: str, beside: str) -> bool:
    """Whether what is beside a replaced span (nearest first) may have been held back by it:
    a letter, a digit or a mark right beside it, or the Chinese character that ends a plate
    (粵Z·1234港); for digits, other digits within three separators (numbers come in groups).
    Chinese words beside it are no identifiers that its letters could have held back."""
    if _DIGIT.match(edge) and _DIGIT.search(beside):
        return True
    return bool(beside) and bool(_GLUE.match(beside) or beside[0] in "港澳挂掛學学警")


def _findings_near(text: str, edges: list[tuple[int, int]], region: str, own, keep,
                   also: tuple[str, ...]) -> list[Finding]:
    """Certain findings in the given stretches beside placeholders, all looked at in one go
    (joined by blank lines). One that reaches a stretch's cut edge may go on beyond it: that
    stretch is widened and looked at again (at worst, the whole text)."""
    windows, findings = list(merged_windows(sorted(edges), 0, 0, len(text))), []
    while windows:
        joined, offsets, position = [], [], 0
        for start, end in windows:
            offsets.append((position, start, end))
            joined.append(text[start:end])
            position += end - start + len(_SEPARATOR)
        together = _SEPARATOR.join(joined)
        found = [f for f in find_personal_data(together, region=region, own=own, keep=keep)
                 if f.certain]
        found = _merged(found, list(_also_findings(together, also, region, own, keep)))
        cut = set()
        for finding in found:
            for joined_start, start, end in offsets:
                if not joined_start <= finding.start < joined_start + end - start + 1:
                    continue
                local_start, local_end = finding.start - joined_start, finding.end - joined_start
                if (local_start > 2 or start == 0) and (local_end < end - start - 2
                                                        or end == len(text)):
                    findings.append(Finding(local_start + start, local_end + start,
                                            finding.kind, True, finding.text))
                else:  # it may go on beyond the cut
                    cut.add((start - _NEIGHBOURHOOD, end + _NEIGHBOURHOOD))
                break
        windows = list(merged_windows(sorted(cut), 0, 0, len(text)))
    return _merged(findings, [])


_SEPARATOR = "\n\n\n"  # between the stretches looked at together
_DIGIT = re.compile("[0-9０-９〇零一二三四五六七八九幺兩两]")


def _touches(edge: str, beside: str) -> bool:
    """Whether what is beside a replaced span (nearest first) may have been held back by it:
    a letter, a digit or a mark right beside it, or the Chinese character that ends a plate
    (粵Z·1234港); for digits, other digits within three separators (numbers come in groups).
    Chinese words beside it are no identifiers that its letters could have held back."""
    if _DIGIT.match(edge) and _DIGIT.search(beside):
        return True
    return bool(beside) and bool(_GLUE.match(beside) or beside[0] in "港澳挂掛學学警")


def _findings_near(text: str, edges: list[tuple[int, int]], region: str, own, keep,
                   also: tuple[str, ...]) -> list[Finding]:
    """Certain findings in the given stretches beside placeholders, all looked at in one go
    (joined by blank lines). One that reaches a stretch's cut edge may go on beyond it: then
    the stretches are widened and looked at again (at worst, the whole text)."""
    windows = list(merged_windows(sorted(edges), 0, 0, len(text)))
    if not windows:
        return []
    joined, offsets, position = [], [], 0
    for start, end in windows:
        offsets.append((position, start, end))
        joined.append(text[start:end])
        position += end - start + len(_SEPARATOR)
    together = _SEPARATOR.join(joined)
    found = [f for f in find_personal_data(together, region=region, own=own, keep=keep)
             if f.certain]
    found = _merged(found, list(_also_findings(together, also, region, own, keep)))
    findings = []
    for finding in found:
        for joined_start, start, end in offsets:
            if joined_start <= finding.start and finding.end <= joined_start + end - start:
                local_start, local_end = finding.start - joined_start, finding.end - joined_start
                if (local_start > 2 or start == 0) and (local_end < end - start - 2
                                                        or end == len(text)):
                    findings.append(Finding(local_start + start, local_end + start,
                                            finding.kind, True, finding.text))
                else:  # it may go on beyond the cut: look again at a wider stretch
                    wider = [(a - _NEIGHBOURHOOD, b + _NEIGHBOURHOOD) for a, b in edges]
                    return _findings_near(text, wider, region, own, keep, also)
                break
    return _merged(findings, [])


_NEIGHBOURHOOD = 32  # characters looked at again beside a replacement with something glued
_NAME_NEIGHBOURHOOD = 12  # and around a name


def _replaced(text: str, findings: list[Finding]) -> tuple[str, list[tuple[int, int]]]:
    """The text with the findings replaced, and the edges of placeholders where what was
    replaced began or ended with a letter, a digit or a mark, or was a name: only there can a
    neighbour have been blocked (the rules' lookarounds look at exactly those characters, and
    the name rules at the words around)."""
    pieces, edges, position, shift = [], [], 0, 0
    keeping = _keeping_words(text)
    for finding in findings:
        pieces += [text[position:finding.start], finding.placeholder]
        start = finding.start + shift
        end = start + len(finding.placeholder)
        # A name's rules read a few words around it; other rules only what is glued to it,
        # which may be as long as an email address.
        if _GLUE.match(text[finding.start]) and _touches(
                text[finding.start], text[max(0, finding.start - 4):finding.start][::-1]):
            edges.append((start - _NEIGHBOURHOOD, end))
        if _GLUE.match(text[finding.end - 1]) and _touches(
                text[finding.end - 1], text[finding.end:finding.end + 4]):
            edges.append((start, end + _NEIGHBOURHOOD))
        if finding.placeholder == PLACEHOLDERS["name"] or _in_chinese(text, finding):
            # Chinese words around it are segmented afresh once it is gone.
            edges.append((start - _NAME_NEIGHBOURHOOD, end + _NAME_NEIGHBOURHOOD))
        if any(word_start < finding.end and finding.start < word_end
               for word_start, word_end in keeping):  # it took away what kept a name or number
            edges.append((start - _NEIGHBOURHOOD, end + _NEIGHBOURHOOD))
        shift += len(finding.placeholder) - (finding.end - finding.start)
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces), edges


def _in_chinese(text: str, finding: Finding) -> bool:
    """A span that begins or ends with a Chinese character next to another (九一二三四五六七 in
    電話九一二三四五六七聯絡)."""
    return (is_han(text[finding.start]) and is_han(text[finding.start - 1:finding.start] or "a")
            or is_han(text[finding.end - 1]) and is_han(text[finding.end:finding.end + 1] or "a"))


def _keeping_words(text: str) -> list[tuple[int, int]]:
    """Where the words are that keep a name or a number near them: staff roles (the cleaning
    lady, Ms Ho), codes' cues, currencies. A replacement that takes one away may free what it
    kept."""
    patterns = [ANY_KEEPING_WORD]
    if re.search("[A-Za-z]", text):
        patterns += [ANY_ENGLISH_ROLE_WORD, ANY_ENGLISH_KEEPING_WORD]
    return [found.span() for found in ANY_ROLE_WORD.finditer(segmenter.simplified(text))] + [
        found.span() for pattern in patterns for found in pattern.finditer(text)]


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


def _also_findings(text: str, also: tuple[str, ...], region: str, own, keep) -> Iterator[Finding]:
    if not also:
        return
    matching = for_matching(text)
    protected = list(protected_spans(matching))
    kinds = {finding.text.casefold(): finding.kind
             for finding in possible_personal_data(text, region=region, own=own, keep=keep)}
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
