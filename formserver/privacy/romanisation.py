"""A Chinese name written in Latin letters: the spellings of Hong Kong, Macau, the mainland and
Taiwan, as regular expressions that accept any of them.

Readings come from packages that ship their data: ToJyutping (Cantonese, every reading of a
character) and pypinyin (Mandarin, Hanyu Pinyin and Wade-Giles). Hong Kong's government
romanisation and Macau's Portuguese-based one are derived from the Jyutping syllable by the rules
below; surnames take their official spellings from surnames.py.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

import opencc

from .surnames import OFFICIAL_SPELLINGS

# Characters are read one by one, so pypinyin's phrase dictionary (45 MB in memory) is not
# needed; it reads this variable when first imported. Both packages are imported on first use.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")

_TO_TRADITIONAL = opencc.OpenCC("s2hk")

_INITIALS = ("gw", "kw", "ng", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "w", "z",
             "c", "s", "j")

# Jyutping initial → Hong Kong and Macau spellings.
_HK_INITIALS = {"b": ("p",), "d": ("t",), "g": ("k",), "gw": ("kw",), "z": ("ch", "ts"),
                "c": ("ch", "ts"), "s": ("s", "sh"), "j": ("y",)}
_MO_INITIALS = {"b": ("p",), "d": ("t",), "g": ("k",), "gw": ("ku",), "kw": ("ku",),
                "z": ("ch",), "c": ("ch",), "j": ("i",), "w": ("w", "v")}

# Jyutping final → Hong Kong and Macau spellings.
_HK_FINALS = {
    "aa": ("a", "ah"), "aai": ("ai",), "aau": ("au",), "aam": ("am",), "aan": ("an",),
    "aang": ("ang",), "aap": ("ap",), "aat": ("at",), "aak": ("ak",), "am": ("am", "um"),
    "an": ("an", "un"), "ap": ("ap", "up"), "ei": ("ei", "ee", "i"), "i": ("i", "ee"),
    "o": ("o", "oh"), "oi": ("oi", "oy"), "ou": ("o", "ou"), "u": ("u", "oo"), "ui": ("ui", "ooi"),
    "un": ("un", "oon"), "oe": ("oe", "eu"), "oeng": ("eung",), "oek": ("euk",),
    "eoi": ("ui", "eui", "ue"), "eon": ("un", "eun"), "eot": ("ut",), "yu": ("u", "yu", "ue"),
    "yun": ("uen", "un"), "yut": ("ut", "uet"),
}
_MO_FINALS = {
    "aa": ("a",), "aau": ("au", "ao"), "au": ("au", "ao"), "ak": ("ak", "ac"), "aak": ("ak", "ac"),
    "ei": ("ei", "i"), "eng": ("eng", "eang"), "ek": ("ek", "ec"), "iu": ("io", "iu"),
    "ing": ("eng",), "ik": ("ek", "ic"), "ok": ("ok", "oc"), "ui": ("ui", "oi"),
    "ung": ("ong", "ung"), "uk": ("uk", "oc", "ok"), "oe": ("eo",), "oeng": ("eong",),
    "oek": ("eok", "euk"), "eoi": ("ui", "oi", "eoi"), "eon": ("on", "un", "eon"),
    "eot": ("ut",), "yu": ("u", "iu"), "yun": ("un", "iun", "uen"), "yut": ("ut",),
}


def _split(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial):]
    return "", syllable  # "aa", "ng" and "m" stand alone


def _spellings_of(syllable: str, initials: dict, finals: dict) -> set[str]:
    initial, final = _split(syllable)
    initial_spellings = initials.get(initial, (initial,))
    if initial == "j":  # 葉 jip → Yip or Ip, 楊 joeng → Yeung or Ieong, 余 jyu → Yu or U
        initial_spellings = (*initial_spellings, "")
    spellings = {
        (head + tail).replace("yy", "y").replace("ii", "i")
        for head in initial_spellings
        for tail in finals.get(final, (final,))
    }
    if initial in ("z", "c", "s") and final == "i":  # 思 Sze, 芝 Chi, 子 Tsz
        spellings |= {"sze", "si", "shi", "see"} if initial == "s" else {"chi", "tsz", "tze", "tsi"}
    return {spelling for spelling in spellings if spelling}


@lru_cache(maxsize=4096)
def cantonese_spellings(char: str) -> frozenset[str]:
    """Hong Kong and Macau spellings of every Cantonese reading of one character."""
    import ToJyutping

    [(_, readings)] = ToJyutping.get_jyutping_candidates(char) or [(char, [])]
    spellings: set[str] = set()
    for reading in readings or ():
        syllable = re.sub(r"[0-9]", "", reading)
        spellings |= _spellings_of(syllable, _HK_INITIALS, _HK_FINALS)
        spellings |= _spellings_of(syllable, _MO_INITIALS, _MO_FINALS)
    return frozenset(spellings)


@lru_cache(maxsize=4096)
def mandarin_spellings(char: str) -> frozenset[str]:
    """Hanyu Pinyin (lü as lü, lu, lv, lyu) and Wade-Giles without apostrophes."""
    import pypinyin

    spellings: set[str] = set()
    for style in (pypinyin.Style.NORMAL, pypinyin.Style.WADEGILES):
        for reading in pypinyin.pinyin(char, style=style, heteronym=True)[0]:
            reading = reading.replace("'", "").replace("’", "")
            spellings.add(reading)
            if "v" in reading or "ü" in reading:
                spellings |= {reading.replace(letter, other) for letter in "vü"
                              for other in ("u", "yu", "v", "ü")}
    return frozenset(spelling for spelling in spellings if spelling.isalpha())


def surname_spellings(surname: str) -> frozenset[str]:
    """Official spellings first; a surname missing from the table is read like a given name."""
    traditional = _TO_TRADITIONAL.convert(surname)
    hong_kong, macau = OFFICIAL_SPELLINGS.get(traditional, ((), ()))
    spellings = {spelling.lower() for spelling in (*hong_kong, *macau)}
    if len(surname) == 1:
        spellings |= cantonese_spellings(traditional) | mandarin_spellings(surname)
    else:
        spellings |= {"".join(parts) for parts in _each_reading(traditional)}
    return frozenset(spellings)


def _each_reading(chars: str) -> list[tuple[str, ...]]:
    readings: list[tuple[str, ...]] = [()]
    for char in chars:
        options = cantonese_spellings(char) | mandarin_spellings(char)
        readings = [(*done, option) for done in readings for option in sorted(options)][:64]
    return readings


def syllable_pattern(spellings: frozenset[str]) -> str:
    """One syllable, any of its spellings; longest first so that "chan" is not cut to "cha"."""
    return "(?:" + "|".join(sorted(map(re.escape, spellings), key=len, reverse=True)) + ")"


def given_name_pattern(given: str) -> str:
    """The given name's syllables with a space, a hyphen or nothing between them (Tai Man,
    Tai-man, Taiman); each syllable in its Cantonese or Mandarin spellings."""
    parts = [syllable_pattern(cantonese_spellings(_TO_TRADITIONAL.convert(char))
                              | mandarin_spellings(char)) for char in given]
    return r"[\s\-]?".join(parts)


def initials_pattern(given: str) -> str:
    """The given name's initials in capitals, with or without dots (KH, K.H., K. H.)."""
    parts = []
    for char in given:
        spellings = cantonese_spellings(_TO_TRADITIONAL.convert(char)) | mandarin_spellings(char)
        parts.append("[" + "".join(sorted({spelling[0].upper() for spelling in spellings})) + "]")
    return r"\.?\s?".join(parts) + r"\.?"
