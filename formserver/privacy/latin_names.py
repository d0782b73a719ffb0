"""Other people's names in Latin letters: after a title (Mr Wong, Ms. Chan Mei Ling), after a
cue (neighbour Peter Chan, 鄰居 Wong Siu Ming), and romanised Chinese names on their own
(Wong Siu Ming, Siu-ming Wong): an official surname spelling with syllables that given names
are made of. Staff in their role are kept (roles.py), and so are districts that read like names
(Ho Man Tin, Wong Tai Sin)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from . import segmenter
from .matching import hinted
from .names import CUES
from .roles import in_role
from .romanisation import cantonese_spellings, mandarin_spellings
from .surnames import OFFICIAL_SPELLINGS

Candidate = tuple[int, int, str, bool]

# A word of a name: Wong, Siu-ming, CHAN, António; or an initial (K. W. Tang, J. Ng).
_WORD = (r"(?:[A-ZÀ-Þ][a-zß-ÿ]+(?:['’-][A-Za-zÀ-ÿ][a-zß-ÿ]+)?|[A-Z]{2,}(?:-[A-Z]{2,})?"
         r"|[A-Z]\.(?=[ \t]))")
# Ah is Cantonese's 阿 before a nickname (Ah Fai, Ah Ming).
_TITLE = (r"(?:Mr|Mrs|Ms|Miss|Mdm|Madam|Madame|Dr|Mister|Auntie|Aunty|Uncle|Sir|Ah|Sr|Sra|Dona|"
          r"Senhor|Senhora)\.?")
_TITLE_BEFORE = re.compile(rf"(?<![A-Za-z]){_TITLE}\s+$")
_ENGLISH_CUES = (r"neighbou?rs?|tenants?|residents?|owners?|landlord|landlady|named|called|"
                 r"my name is|name\s*[:：]|witness|husband|wife|son|daughter|friend|signed|"
                 r"helper|maid|agent|employer|sister|brother|mother|father|mum|mom|dad|cousin|"
                 r"nephew|niece|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|"
                 r"child|kid|boyfriend|girlfriend|partner|colleague|boss|visitor|guest|"
                 r"replacement|vizinh[oa]s?|inquilin[oa]s?|senhori[oa]|marido|mulher|"
                 r"filh[oa]|m[ãa]e|pai")
_CUE_BEFORE = re.compile(
    rf"(?:(?<![A-Za-z])(?:{_ENGLISH_CUES})(?![A-Za-z])[\s,:]*|(?:{'|'.join(CUES)})\s*[:：]?\s*)"
    rf"(?:{_TITLE}\s+)?[「『“\"'‘(（]?\s*$",
    re.IGNORECASE,
)
# One to four capitalised words (Wong Siu Ming, CHAN TAI MAN, Siu-ming), with the particles of
# Portuguese names between them (João Carlos da Silva).
_WORDS = hinted(rf"(?<![A-Za-z]){_WORD}(?:[ \t]+(?:(?:da|de|do|dos|das)[ \t]+)?{_WORD}){{0,3}}"
                r"(?![A-Za-zÀ-ÿ])", "A-ZÀ-Þ")

# Words that start sentences or name things, never people: they end a name.
STOP_WORDS = frozenset((
    "the", "a", "an", "and", "or", "of", "in", "on", "at", "to", "for", "from", "with", "by",
    "is", "was", "are", "were", "be", "been", "has", "have", "had", "it", "its", "this",
    "that", "these", "those", "he", "she", "they", "we", "i", "you", "my", "our", "your",
    "his", "her", "their", "me", "him", "them", "us", "who", "which", "block", "flat", "floor",
    "tower", "estate", "road", "street", "avenue", "lane", "path", "building", "lift", "lobby",
    "office", "management", "committee", "hong", "kong", "macau", "china", "taiwan", "kowloon",
    "new", "territories", "island", "police", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december", "dear", "regards",
    "thanks", "thank", "please", "sir", "madam", "mr", "mrs", "ms", "miss", "dr", "also",
    "but", "not", "no", "yes", "so", "if", "when", "then", "there", "here", "what", "why",
    "how", "all", "any", "security", "guard", "manager", "staff", "cleaner", "owner", "owners",
    "resident", "residents", "tenant", "neighbour", "neighbor", "ah", "auntie", "aunty",
    "uncle", "mister", "madame", "mdm", "sr", "sra", "dona", "senhor", "senhora", "o", "a",
    # A form's labels: Name: Thomas Ho, Address: ...
    "name", "address", "phone", "tel", "mobile", "email", "date", "signature", "statement",
    "subject", "re", "hkid", "passport", "witness", "ref",
))

_MONTH_NAMES = frozenset(("may", "june", "april", "august"))

# Districts and places that read like romanised names.
PLACES = frozenset(name.lower() for name in """
Ho Man Tin|Wong Tai Sin|Ma On Shan|Tai Po|Sha Tin|Tseung Kwan O|Kwun Tong|Tsuen Wan|Tuen Mun|
Yuen Long|Tin Shui Wai|Sheung Shui|Fanling|Sai Kung|Kwai Chung|Tsing Yi|Chai Wan|Shau Kei Wan|
Tai Koo|Kowloon Tong|To Kwa Wan|Hung Hom|Lam Tin|Yau Tong|Yau Ma Tei|Mong Kok|Sham Shui Po|
Cheung Sha Wan|Lai Chi Kok|Shek Kip Mei|Lok Fu|Wong Chuk Hang|Lei Yue Mun|Wan Chai|Sheung Wan|
Causeway Bay|North Point|Quarry Bay|Aberdeen|Ap Lei Chau|Pok Fu Lam|Happy Valley|Tung Chung|
Ma Wan|Tai Wai|Fo Tan|Siu Sai Wan|Heng Fa Chuen|Lo Wu|Tai Wo|Ma Tau Wai|Kai Tak|Choi Hung|
Diamond Hill|Tsim Sha Tsui|Jordan|Prince Edward|Tai Kok Tsui|Ho Chung|Tai Hang|Taipa|Coloane|
Cotai|Areia Preta|Fai Chi Kei|Ilha Verde|Sai Van|Nam Van|Ha Van|Lam Mau Tong|Mong Ha|Iao Hon|
Wong Tai Sin Temple|Lo Fu Ngam|Sai Ying Pun|Kennedy Town|Shek O|Stanley|Repulse Bay
""".replace("\n", "").split("|"))


# Cantonese's 阿 before an English name (阿May, 阿Ken); 阿Sir is a policeman or a teacher.
_AH_NAME = re.compile(r"阿\s?(?!(?:Sir|SIR|sir)(?![A-Za-z]))[A-Z][A-Za-z]{1,11}(?![A-Za-z])")


# A family by its surname: the Wongs next door.
# (The letter before "the" is checked apart: a look-behind here costs more than all the rest.)
_FAMILY = re.compile(r"[Tt]he\s+(?P<surname>[A-Z][a-z]+)(?:e?s)(?![A-Za-z])")


def find_latin_names(matching: str, simplified: str) -> Iterator[Candidate]:
    for found in _AH_NAME.finditer(matching):
        if not in_role(simplified, *found.span()):
            yield found.start(), found.end(), "person", True
    for found in _FAMILY.finditer(matching):
        if found.group("surname").lower() in surname_spellings_all() and not (
                found.start() and matching[found.start() - 1].isalpha()
                and matching[found.start() - 1].isascii()):
            yield found.start("surname"), found.end(), "person", True
    for found in _WORDS.finditer(matching):
        start, end = _name_words(matching, *found.span())
        candidate = _words_candidate(matching, simplified, start, end)
        initials = _INITIALS.match(matching, start, end)
        if candidate is None and initials:  # 20/F. Cheung Ka Ho: F. is no initial
            candidate = _words_candidate(matching, simplified,
                                         *_name_words(matching, initials.end(), found.end()))
        if candidate and not in_role(simplified, candidate[0], candidate[1]):
            yield candidate


_INITIALS = re.compile(r"(?:[A-Z]\.[ \t]+)+")


def _words_candidate(matching: str, simplified: str, start: int, end: int) -> Candidate | None:
    """A name after a title or a cue, or a romanised Chinese name, at matching[start:end]."""
    if start >= end:
        return None
    before = simplified[max(0, start - 24):start]  # Chinese cues are in Simplified
    title = _TITLE_BEFORE.search(before)
    if title and not _is_place(matching[start:end]):
        return start - len(title.group()), end, "person", True
    if _CUE_BEFORE.search(before) and not _is_place(matching[start:end]):
        return start, end, "person", True
    return _romanised_name(matching, start, end)


_TITLE_WORDS = frozenset(("mr", "mrs", "ms", "miss", "mdm", "madam", "madame", "dr", "mister",
                          "auntie", "aunty", "uncle", "ah", "sr", "sra", "dona"))
_PARTICLES = frozenset(("da", "de", "do", "dos", "das"))


def _name_words(matching: str, start: int, end: int) -> tuple[int, int]:
    """The words without the stop words around them (The ... , Mr Chan And ...) and at most
    three of them (four with a particle, João Carlos da Silva). After a title, a month is a
    name (Aunty May)."""
    words = list(re.finditer(r"\S+", matching[start:end]))
    after_title = False
    while words and words[0].group().lower() in STOP_WORDS and not (
            after_title and words[0].group().lower() in _MONTH_NAMES):
        after_title = words.pop(0).group().lower().rstrip(".") in _TITLE_WORDS
    kept = []
    for word in words:
        if word.group().lower() in STOP_WORDS and not (not kept and after_title):
            break
        kept.append(word)
    kept = kept[:4 if any(word.group() in _PARTICLES for word in kept) else 3]
    if not kept:
        return start, start
    return start + kept[0].start(), start + kept[-1].end()


def _is_place(words: str) -> bool:
    return " ".join(words.lower().replace("-", " ").split()) in PLACES


def _romanised_name(matching: str, start: int, end: int) -> Candidate | None:
    words = matching[start:end].split()
    if len(words) < 2 or _is_place(" ".join(words)):
        return None
    lowered = [word.lower() for word in words]
    surname_first = lowered[0] in surname_spellings_all()
    surname_last = lowered[-1] in surname_spellings_all()
    if not (surname_first or surname_last):
        return None
    given = lowered[1:] if surname_first else lowered[:-1]
    if all(re.fullmatch(r"[a-z]\.", part) for part in given):  # K. W. Tang, J. Ng
        return start, end, "person", True
    syllables = [part for word in given for part in word.split("-")]
    if not all(part in given_name_syllables() for part in syllables):
        # An English given name before the surname (Peter Chan) is a name, less surely.
        if surname_last and len(words) == 2 and words[0][0].isupper() and words[0][1:].islower():
            return start, end, "person", False
        return None
    return start, end, "person", len(syllables) >= 2


@lru_cache(maxsize=1)
def surname_spellings_all() -> frozenset[str]:
    """Official Hong Kong and Macau spellings, Pinyin and Wade-Giles (Chen, Zhang, Chang)."""
    official = {spelling.lower() for hong_kong, macau in OFFICIAL_SPELLINGS.values()
                for spelling in (*hong_kong, *macau) if " " not in spelling}
    mandarin = {spelling for surname in OFFICIAL_SPELLINGS if len(surname) == 1
                for spelling in mandarin_spellings(segmenter.simplified(surname))}
    return frozenset(official | mandarin)


@lru_cache(maxsize=1)
def given_name_syllables() -> frozenset[str]:
    """Cantonese and Mandarin spellings of every character the dictionary's names use often."""
    syllables: set[str] = set()
    for char in segmenter.common_given_name_chars(8):
        syllables |= cantonese_spellings(segmenter.traditional(char)) | mandarin_spellings(char)
    return frozenset(syllables)
