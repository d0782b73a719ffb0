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
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is not None:
            return _tokenizer
        with warnings.catch_warnings():
            # jieba 0.42 imports pkg_resources, which newer setuptools marks as deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            import jieba
        jieba.setLogLevel(logging.WARNING)  # it logs every load at DEBUG on its own handler
        # The prefix dictionary is cached in the temporary folder (the service's own, with
        # systemd's PrivateTmp), which makes later loads about twice as fast.
        jieba.dt.initialize()
        _tags = _read_tags(jieba.dt)
        for word, word_tag in _tags.items():
            if word_tag.startswith("nr") and len(word) == 3 and word[0] in SIMPLIFIED_SURNAMES:
                _given_name_chars.update(word[1:])
        _tokenizer = jieba.dt
        return _tokenizer


def _read_tags(tokenizer) -> dict[str, str]:
    """The dictionary's tags of person names (nr...), adjectives (a...) and adverbs (d...): the
    only ones asked about, a quarter of the dictionary (jieba.posseg would hold all of it)."""
    tags = {}
    with tokenizer.get_dict_file() as lines:
        for line in lines:
            parts = line.decode("utf-8").split()
            if len(parts) == 3 and parts[2][:1] in ("n", "a", "d") and (
                    parts[2][:1] != "n" or parts[2].startswith("nr")):
                tags[parts[0]] = parts[2]
    return tags


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


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each word of a Simplified text, found by jieba with its HMM for words
    missing from the dictionary (mostly names)."""
    tokenizer = _load()
    spans, position = [], 0
    for word in tokenizer.cut(text, HMM=True):
        spans.append((position, position + len(word)))
        position += len(word)
    return tuple(spans)


def frequency(word: str) -> int:
    """How often the dictionary saw the word (0 if it is not a word there)."""
    return (_tokenizer or _load()).FREQ.get(word, 0) or 0


def tag(word: str) -> str:
    """jieba's part-of-speech tag of a dictionary word if it is a person's name (nr...), an
    adjective (a...) or an adverb (d...); otherwise ""."""
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
