"""The fourth held-out corpus (tests/data/heldout_4.toml), written blind by an outside tester's
pass before the redaction code was read: recall per kind of personal data and the share of
innocent look-alikes destroyed, against floors that are what the code reaches today, so that any
regression fails. Run as a script to print the table and every miss."""

from __future__ import annotations

import tomllib

import pytest
from corpus_scoring import MOST_NEGATIVES_DESTROYED, figures, table
from helpers import ROOT

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "heldout_4.toml").read_text("utf-8"))
PART = "blind"

# First run, before any fix (2026-12-02): own 117/124 (94.4 %), person 59/69 (85.5 %),
# address 18/33 (54.5 %), document 18/18, payment 6/6, phone 11/11, email 4/4, plate 13/13,
# handle 11/12 (91.7 %), birth_date 9/10 (90.0 %); look-alikes destroyed 2/245 (0.8 %).
# Floors: found per kind after the fixes on this corpus.
FLOORS = {"own": 123, "person": 68, "address": 31, "document": 18, "payment": 6, "phone": 11,
          "email": 4, "plate": 13, "handle": 12, "birth_date": 10}
MOST_DESTROYED = 0

# The corpus is large enough to say something about every kind.
LEAST_PER_KIND = {"own": 100, "person": 50, "address": 25, "document": 15, "plate": 10,
                  "handle": 10, "birth_date": 8, "payment": 5, "phone": 8, "email": 3}


@pytest.fixture(scope="module")
def scored():
    return figures(PART, CORPUS)


def test_the_fourth_corpus_has_enough_identifiers_of_every_kind_and_look_alikes(scored):
    per_kind, (_, negatives), _ = scored
    for kind, least in LEAST_PER_KIND.items():
        assert per_kind.get(kind, (0, 0))[1] >= least, kind
    assert sum(total for _, total in per_kind.values()) >= 260
    assert negatives >= 200


@pytest.mark.parametrize("kind", sorted(LEAST_PER_KIND))
def test_the_fourth_corpus_finds_at_least_what_it_found_after_its_fixes(scored, kind):
    per_kind, _, misses = scored
    found, _ = per_kind[kind]
    assert found >= FLOORS[kind], [miss for miss in misses if miss.startswith(f"missed {kind}:")]


def test_the_fourth_corpus_destroys_no_more_look_alikes_than_after_its_fixes(scored):
    _, (destroyed, negatives), misses = scored
    assert destroyed <= MOST_DESTROYED, [miss for miss in misses if miss.startswith("destroyed")]
    assert destroyed / negatives <= MOST_NEGATIVES_DESTROYED


if __name__ == "__main__":
    print(table(PART, CORPUS))
    for miss in figures(PART, CORPUS)[2]:
        print(miss)
