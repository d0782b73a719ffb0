"""Held-out corpus 5 (tests/data/heldout_5.toml): complaints written blind by an outside tester's
pass, without sight of the redaction code or the other corpora, and measured once after the fixes
of issue 11 were merged. Its floors are that first run's figures, so a change that loses recall on
text nobody tuned for fails here; issue 11's targets are corpus_scoring.TARGETS. main's fixes
read the first part ("blind") before its run, so a second ("unseen") was written after them and
measured at once: its figures are the honest estimate.

Run as a script to print the table and every miss: python tests/test_redaction_heldout_5.py"""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest
from corpus_scoring import figures, table
from helpers import ROOT

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "heldout_5.toml").read_text("utf-8"))
PART = "blind"
# Written after main's fixes had read PART, and measured once at once (too small to judge a kind).
UNSEEN = "unseen"

# PART's first run, blind, before any change it led to (main at f5a9c5f, 04:47 UTC): own 159/166
# (95.8 %), documents 16/18 (88.9 %), payment 10/10, phones 15/15, emails 9/9, addresses 13/36
# (36.1 %), handles 12/13 (92.3 %), dates of birth 8/8, plates 9/12 (75 %), other people's names
# 79/91 (86.8 %); look-alikes destroyed 15/314 (4.8 %). The fixes that followed read its misses,
# so the floors below (what the code now reaches) are no estimate for unseen text.
FLOOR = {"own": 166 / 166, "document": 18 / 18, "payment": 10 / 10, "phone": 15 / 15,
         "email": 9 / 9, "address": 20 / 36, "handle": 12 / 13, "birth_date": 8 / 8,
         "plate": 12 / 12, "person": 79 / 91}
MOST_DESTROYED = 3 / 314
# UNSEEN's first and only run, 05:22 UTC, the same code: own 29/32 (90.6 %), addresses 4/14
# (28.6 %), handles 2/3, other people's names 21/27 (77.8 %), every other kind whole (documents
# 4/4, phones 7/7, email 1/1, date of birth 1/1, plates 4/4); look-alikes destroyed 0/28. The
# honest estimate for unseen writing: below issue 11's targets for own, addresses and names.
# One general fix after it (short flats after a person or household, Bashir from 27B) reaches
# addresses 7/14 and names 22/27.
UNSEEN_FLOOR = {"own": 29 / 32, "document": 4 / 4, "phone": 7 / 7, "email": 1 / 1,
                "address": 7 / 14, "handle": 2 / 3, "birth_date": 1 / 1, "plate": 4 / 4,
                "person": 22 / 27}
UNSEEN_MOST_DESTROYED = 0 / 28

# What a corpus must hold for its recall per kind to mean something.
FEWEST_PER_KIND = 8
FEWEST_IDENTIFIERS = 250
FEWEST_LOOK_ALIKES = 200


@pytest.fixture(scope="module")
def measured():
    return figures(PART, CORPUS)


@pytest.fixture(scope="module")
def measured_unseen():
    return figures(UNSEEN, CORPUS)


def test_the_corpus_holds_enough_identifiers_of_every_kind_and_look_alikes():
    cases = [case for case in CORPUS["case"] if case["part"] == PART]
    kinds = Counter(kind for case in cases for kind, _ in case["find"])
    look_alikes = sum(len(case["keep"]) for case in cases)
    assert {kind: kinds[kind] for kind in FLOOR if kinds[kind] < FEWEST_PER_KIND} == {}
    assert set(kinds) <= set(FLOOR)
    assert sum(kinds.values()) >= FEWEST_IDENTIFIERS
    assert look_alikes >= FEWEST_LOOK_ALIKES


def test_every_identifier_and_look_alike_is_written_in_its_complaint():
    absent = [(number, written)
              for number, case in enumerate(CORPUS["case"])
              for written in [identifier for _, identifier in case["find"]] + case["keep"]
              if written not in case["text"] or case["own"] not in CORPUS["own"]]
    assert absent == []


@pytest.mark.parametrize("kind", sorted(FLOOR))
def test_unseen_writing_keeps_its_recall_for_each_kind(measured, kind):
    per_kind, _, misses = measured
    found, total = per_kind[kind]
    assert found / total >= FLOOR[kind], [miss for miss in misses
                                          if miss.startswith(f"missed {kind}:")]


def test_unseen_writing_keeps_its_innocent_look_alikes(measured):
    _, (destroyed, negatives), misses = measured
    assert destroyed / negatives <= MOST_DESTROYED, [miss for miss in misses
                                                     if miss.startswith("destroyed")]


def test_unseen_writing_written_last_keeps_its_recall_and_its_look_alikes(measured_unseen):
    per_kind, (destroyed, negatives), misses = measured_unseen
    below = {kind: per_kind[kind] for kind in UNSEEN_FLOOR
             if per_kind[kind][0] / per_kind[kind][1] < UNSEEN_FLOOR[kind]}
    assert below == {} and destroyed / negatives <= UNSEEN_MOST_DESTROYED, misses


if __name__ == "__main__":
    for part in (PART, UNSEEN):
        print(f"## {part}", table(part, CORPUS), "", *figures(part, CORPUS)[2], "", sep="\n")
