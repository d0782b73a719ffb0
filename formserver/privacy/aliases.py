"""Names that their place in the text says are names, whatever they look like: the speaker of
a chat message pasted in ([12/5/2024, 23:14] Kelvin Ng: ..., 【Jenny 李】：...), a nickname in
quotes after a naming word (大家叫佢「肥佬B」, 暱稱「小美」), an alias in brackets right after
a name (吳小姐（Winnie）, 陳伯（陳炳）), and the given name of a Latin name found once, written
alone later (Maria Santos ... Maria 嘅護照). Staff in their role are kept (roles.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .latin_names import STOP_WORDS, given_name_syllables, surname_spellings_all
from .roles import in_role, names_a_role
from .surnames import SURNAMES

Candidate = tuple[int, int, str, bool]

# A WhatsApp line as exported or copied ([12/5/2024, 23:14] Name: / 12/5/24 23:14 - Name:,
# 13/4 08:02 - Name:, [2025/4/2 下午3:05] Name:), and a WeChat group's 【Name】：.
_PERIOD = r"(?:上午|下午|中午|晚上|凌晨|早上|朝早|夜晚)[ \t]*"
_CHAT_SPEAKER = re.compile(
    rf"^[ \t]*(?:(?:\[?[0-9]{{1,4}}[/.\-][0-9]{{1,2}}[/.\-][0-9]{{1,4}},?[ \t]+(?:{_PERIOD})?"
    r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?[ \t]*(?:[AaPp]\.?[Mm]\.?)?\]?[ \t]*-?[ \t]*"
    r"|[0-9]{1,2}/[0-9]{1,2},?[ \t]+[0-9]{1,2}:[0-9]{2}[ \t]+-[ \t]+)"  # 13/4 08:02 - Name:
    r"(?P<name>[^\s:：\[\]0-9][^:：\n\[\]]{0,23}?)"
    r"|【(?P<label>[^】\n]{1,16})】)[ \t]*[:：]",
    re.MULTILINE,
)
# Words that only ever introduce a name or nickname (叫佢 alone also means "tell him to"),
# read backwards from each opening quote: quotes are far fewer than characters.
_QUOTE = re.compile(r"[「『“\"'‘](?=(?P<name>[^」』”\"'’\n]{1,20})[」』”\"'’])")
_NAMING_BEFORE = re.compile(
    r"(?:(?:大家|人哋|人地|人们|街坊|我哋|我们)都?叫(?:佢|他|她)(?:做)?|名叫|叫做|花名|绰号|"
    r"昵称|暱称|网名|外号|人称|自称|(?<![A-Za-z])(?:called|named|nicknamed|known as))"
    r"\s*(?:叫|系|係|是|为|:|：)?\s*$",
    re.IGNORECASE,
)
_NOT_A_NICKNAME = re.compile(r"(?:花园|大厦|中心|公司|会|台|群|组|group|club|page)$",
                             re.IGNORECASE)
_ALIAS = re.compile(
    r"[ \t]*[（(][ \t]*(?P<alias>[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){0,2}|[\u4e00-\u9fff]{2,4})"
    r"[ \t]*[）)]"
)


def find_named_by_context(matching: str, simplified: str) -> Iterator[Candidate]:
    """Chat speakers and quoted nicknames, as (start, end, "person", True)."""
    if "[" in matching or "【" in matching or re.search(r"[0-9]:[0-9]{2}", matching):
        for found in _CHAT_SPEAKER.finditer(matching):
            group = "name" if found.group("name") else "label"
            start, end = found.span(group)
            if not names_a_role(simplified[start:end]):
                yield start, end, "person", True
    for found in _QUOTE.finditer(simplified):
        if not _NAMING_BEFORE.search(simplified, max(0, found.start() - 12), found.start()):
            continue
        start, end = found.span("name")
        name = simplified[start:end].strip()
        if name and len(name) <= (6 if re.search(r"[\u4e00-\u9fff]", name) else 20) \
                and not _NOT_A_NICKNAME.search(name) and not names_a_role(name):
            yield start, end, "person", True


def further_mentions(matching: str, simplified: str, names: Iterable[tuple[int, int]]
                     ) -> Iterator[Candidate]:
    """An alias in brackets right after each name found, and a Latin name's given name written
    alone elsewhere."""
    words: set[str] = set()
    for start, end in names:
        found = _ALIAS.match(matching, end)
        if found and _could_be_an_alias(found.group("alias")) and not in_role(
                simplified, *found.span("alias")):
            yield found.start("alias"), found.end("alias"), "person", True
        words |= _given_words(matching[start:end])
    for word in words:
        for found in re.finditer(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", matching):
            if not in_role(simplified, *found.span()):
                yield found.start(), found.end(), "person", True


def _could_be_an_alias(alias: str) -> bool:
    if alias.isascii():
        return alias.lower() not in STOP_WORDS
    return alias[:1] in SURNAMES or alias[:2] in SURNAMES or alias.startswith("阿")


def _given_words(name: str) -> set[str]:
    """The words of a Latin name that are not a surname, a title or a syllable of romanised
    Chinese (Maria of Maria Santos; not Siu or Ming, which alone say little)."""
    parts = name.split()
    if len(parts) < 2 or not name.isascii():
        return set()
    return {part for part in parts
            if len(part) >= 3 and part[0].isupper() and part[1:].islower() and part.isalpha()
            and part.lower() not in STOP_WORDS and part.lower() not in surname_spellings_all()
            and part.lower() not in given_name_syllables()}
