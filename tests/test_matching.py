"""matching.scanned_alternation and matching.hinted: the same matches as the plain patterns they
speed up."""

from __future__ import annotations

import re
import tomllib

from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from formserver.privacy import segmenter
from formserver.privacy.matching import HINTED, for_matching, scanned_alternation

CUES = ("工單", "工作單", "編號", "job", "Job no", "ref(?:erence)?", r"ref\.", r"W\.?O", "BNO",
        r"work\s+order", "案件")
TAIL = r"\s*[:：#]?\s*(?P<code>[A-Za-z0-9]+)"
# Text made of the cues' pieces, so that cues start, stop and touch letters everywhere.
PIECES = st.sampled_from(["工", "單", "作", "編號", "job", "JOB", "Job", "no", "ref", "REF",
                          ".", "erence", "W", "w", "O", "o", "BNO", "bno", "work", " order",
                          "案件", "x", "a", " ", ":", "：", "#", "12", "A7", "\n", "é"])


def spans(pattern: re.Pattern, text: str) -> list[tuple[int, int, int, int]]:
    return [(*found.span(), *found.span("code")) for found in pattern.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join), st.booleans(), st.booleans())
def test_scanned_alternation_matches_like_the_plain_one(text, ignore_case, word_start):
    flags = re.IGNORECASE if ignore_case else 0
    guard = r"(?<![A-Za-z])" if word_start else ""
    plain = re.compile("(?:" + "|".join(
        (guard if cue[0].isascii() and cue[0].isalpha() else "") + cue for cue in CUES)
        + ")" + TAIL, flags)
    scanned = re.compile(scanned_alternation(CUES, ignore_case=ignore_case,
                                             word_start=word_start) + TAIL, flags)
    assert spans(scanned, text) == spans(plain, text)


def test_a_cue_is_found_where_it_starts_a_word_only_when_asked():
    pattern = re.compile(scanned_alternation(["job"], ignore_case=True, word_start=True),
                         re.IGNORECASE)
    assert [found.group() for found in pattern.finditer("JOB 1, ajob 2, 工單job 3")] == \
        ["JOB", "job"]


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "data").glob("*.toml")):
        texts += [case["text"] for case in tomllib.loads(path.read_text("utf-8"))["case"]]
    prose = (ROOT / "tests" / "data" / "complaint-guidance.zh.txt").read_text("utf-8")
    return [*texts, "\n".join(texts), prose]


def test_every_hinted_pattern_matches_like_its_bare_form():
    import formserver.privacy.text  # noqa: F401  (compiles every finder's patterns)

    texts = [for_matching(text) for text in corpus_texts()]
    texts += [segmenter.simplified(text) for text in texts]
    assert len(HINTED) >= 20
    for source, flags, fast in HINTED:
        bare = re.compile(source, flags)
        for text in texts:
            assert [(found.span(), found.groups()) for found in fast.finditer(text)] == \
                [(found.span(), found.groups()) for found in bare.finditer(text)], bare.pattern
