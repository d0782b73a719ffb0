"""Chinese words and their tags from jieba, whose dictionary and models ship in its package.

The dictionary is loaded once per process, on first use, under a lock (about a second). jieba's
dictionary is in Simplified characters, so Traditional text is segmented through a copy
converted character by character (the same length, so offsets carry over).
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import Counter
from functools import lru_cache

import opencc

from .surnames import SIMPLIFIED_SURNAMES

_lock = threading.Lock()
_tokenizer = None
_tags: dict[str, str] = {}
_given_name_chars: Counter = Counter()
_to_simplified = opencc.OpenCC("t2s")


def _load():
    global _tokenizer, _tags
    with _lock:
        if _tokenizer is not None:
            return _tokenizer
        with warnings.catch_warnings():
            # jieba 0.42 imports pkg_resources, which newer setuptools marks as deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            import jieba
            import jieba.posseg  # reads the dictionary's tags
        jieba.setLogLevel(logging.WARNING)  # it logs every load at DEBUG on its own handler
        # The prefix dictionary is cached in the temporary folder (the service's own, with
        # systemd's PrivateTmp), which makes later loads about twice as fast.
        jieba.dt.initialize()
        _tags = jieba.posseg.dt.word_tag_tab
        for word, word_tag in _tags.items():
            if word_tag in ("nr", "nrfg", "nrt") and len(word) == 3 and word[0] in SIMPLIFIED_SURNAMES:
                _given_name_chars.update(word[1:])
        _tokenizer = jieba.dt
        return _tokenizer


def preload() -> None:
    """Load the dictionary now (e.g. in a worker before its first request)."""
    _load()


@lru_cache(maxsize=8192)
def _simplified_char(char: str) -> str:
    converted = _to_simplified.convert(char)
    return converted if len(converted) == 1 else char


def simplified(text: str) -> str:
    """The text in Simplified characters, one character for one."""
    converted = _to_simplified.convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(map(_simplified_char, text))


def words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of a Simplified text, found by jieba with its HMM for words
    missing from the dictionary (mostly names)."""
    tokenizer = _load()
    spans, position = [], 0
    for word in tokenizer.cut(text, HMM=True):
        spans.append((position, position + len(word)))
        position += len(word)
    return spans


def frequency(word: str) -> int:
    """How often the dictionary saw the word (0 if it is not a word there)."""
    return _load().FREQ.get(word, 0) or 0


def tag(word: str) -> str:
    """jieba's part-of-speech tag of a dictionary word (nr: a person's name), or ""."""
    _load()
    return _tags.get(word, "")


def given_name_count(char: str) -> int:
    """How many of the dictionary's three-character person names (tagged nr, nrfg or nrt)
    use this character in the given name."""
    _load()
    return _given_name_chars[char]


def common_given_name_chars(at_least: int) -> list[str]:
    """Characters used in at least this many of the dictionary's given names."""
    _load()
    return [char for char, count in _given_name_chars.items() if count >= at_least]


_to_traditional = opencc.OpenCC("s2hk")


@lru_cache(maxsize=8192)
def traditional(char: str) -> str:
    converted = _to_traditional.convert(char)
    return converted if len(converted) == 1 else char
