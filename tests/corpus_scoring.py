"""Scoring redaction against a corpus of complaints written the way residents write them
(tests/data/*.toml): recall per kind of personal data and the share of innocent look-alikes
destroyed. Used by test_redaction_corpus.py and test_redaction_heldout.py."""

from __future__ import annotations

import re
import tomllib
from collections import Counter

from helpers import ROOT

from formserver.privacy.complaint import published_contacts
from formserver.privacy.matching import for_matching
from formserver.privacy.text import redact_text

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "redaction_corpus.toml").read_text("utf-8"))
SITE = tomllib.loads((ROOT / "site.toml").read_text("utf-8"))


def region_preset(code: str) -> dict:
    return tomllib.loads((ROOT / "regions" / f"{code}.toml").read_text("utf-8"))


# What the estate publishes, as the app keeps it: the office's and the committee's numbers and
# those of the region's government channels (the profile's region).
KEEP = {code: published_contacts(SITE, region_preset(code)) for code in ("HK", "MO", "TW", "CN")}
TARGETS = {"own": 0.98, "document": 0.97, "payment": 0.97, "phone": 0.97, "email": 0.97,
           "address": 0.90, "handle": 0.90, "birth_date": 0.90, "plate": 0.90, "person": 0.85}
MOST_NEGATIVES_DESTROYED = 0.05


def own_of(case, corpus=CORPUS) -> tuple[str, dict[str, str]]:
    profile = corpus["own"][case["own"]]
    return profile["region"], {kind: profile[kind] for kind in ("name", "unit", "phone", "email")}


def normalised(text: str) -> str:
    return re.sub(r"\s+", "", for_matching(text)).casefold()


def leaked(identifier: str, redacted: str) -> bool:
    """The identifier is still there as written (spaces and width aside), or a run of four of
    its digits is."""
    if normalised(identifier) in normalised(redacted):
        return True
    return any(run in redacted for run in re.findall(r"[0-9]{4,}", for_matching(identifier)))


def redacted_case(case, corpus=CORPUS) -> str:
    region, own = own_of(case, corpus)
    return redact_text(case["text"], region=region, own=own, keep=KEEP[region])


def figures(part: str, corpus=CORPUS
            ) -> tuple[dict[str, tuple[int, int]], tuple[int, int], list[str]]:
    """Per kind (found, total); negatives (destroyed, total); what was missed or destroyed."""
    found, total, misses = Counter(), Counter(), []
    destroyed = negatives = 0
    for case in (case for case in corpus["case"] if case["part"] == part):
        redacted = redacted_case(case, corpus)
        for kind, identifier in case["find"]:
            total[kind] += 1
            if leaked(identifier, redacted):
                misses.append(f"missed {kind}: {identifier!r} in {redacted[:60]!r}…")
            else:
                found[kind] += 1
        for negative in case["keep"]:
            negatives += 1
            if negative not in redacted:
                destroyed += 1
                misses.append(f"destroyed: {negative!r} in {redacted!r}")
    return {kind: (found[kind], total[kind]) for kind in total}, (destroyed, negatives), misses


def table(part: str, corpus=CORPUS) -> str:
    per_kind, (destroyed, negatives), _ = figures(part, corpus)
    lines = ["| kind | found | recall | target |", "| --- | --- | --- | --- |"]
    for kind in TARGETS:
        if kind in per_kind:
            hit, count = per_kind[kind]
            lines.append(f"| {kind} | {hit}/{count} | {hit / count:.1%} | {TARGETS[kind]:.0%} |")
    lines.append(f"| negatives destroyed | {destroyed}/{negatives} | {destroyed / negatives:.1%} "
                 f"| ≤ {MOST_NEGATIVES_DESTROYED:.0%} |")
    return "\n".join(lines)
