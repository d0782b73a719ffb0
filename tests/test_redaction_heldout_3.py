"""Redaction against a third corpus (tests/data/heldout_3.toml), written blind: every case was
written and first measured before its author read the redaction's code or the other corpora's
cases. Per kind, at least as many identifiers found as when the corpus was last measured, and no
more look-alikes destroyed. The floors are what the code reached, so that any regression fails;
raise them when the code finds more.

Print the figures, and what was missed or destroyed, with:
    .venv/bin/python tests/test_redaction_heldout_3.py
"""

from __future__ import annotations

import tomllib

import pytest
from corpus_scoring import TARGETS, figures, table
from helpers import ROOT

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "heldout_3.toml").read_text("utf-8"))

# At least this many identifiers found per kind, and at most this many look-alikes destroyed.
# The first run, before any change: own 96, document 17, payment 9, phone 20, email 5,
# address 8, handle 11, birth_date 8, plate 12, person 64 of 88; 6 look-alikes destroyed
# (three of them government bodies' numbers from the region's preset, which the scoring now
# keeps as the app does).
PART = "blind"
FLOORS = {"own": 98, "document": 17, "payment": 9, "phone": 21, "email": 5, "address": 11,
          "handle": 12, "birth_date": 8, "plate": 12, "person": 87}
MOST_DESTROYED = 0


@pytest.fixture(scope="module")
def scored():
    """Per kind (found, total), look-alikes (destroyed, total), and the report to print."""
    per_kind, destroyed, misses = figures(PART, CORPUS)
    return per_kind, destroyed, table(PART, CORPUS) + "\n" + "\n".join(misses)


def test_the_third_corpus_has_enough_identifiers_and_look_alikes_of_every_kind():
    cases = CORPUS["case"]
    assert {case["part"] for case in cases} == {PART}
    assert sum(len(case["find"]) for case in cases) >= 150
    assert sum(len(case["keep"]) for case in cases) >= 100
    assert {kind for case in cases for kind, _ in case["find"]} == set(TARGETS) == set(FLOORS)


def test_every_identifier_and_look_alike_is_written_in_its_case():
    for case in CORPUS["case"]:
        for written in [text for _, text in case["find"]] + case["keep"]:
            assert written in case["text"], written


@pytest.mark.parametrize("kind", FLOORS)
def test_each_kind_is_found_at_least_as_often_as_when_last_measured(scored, kind):
    per_kind, _, report = scored
    found, _ = per_kind[kind]
    assert found >= FLOORS[kind], f"{kind}: {found} found, {FLOORS[kind]} before\n{report}"


def test_no_more_look_alikes_are_destroyed_than_when_last_measured(scored):
    _, (destroyed, _), report = scored
    assert destroyed <= MOST_DESTROYED, report


if __name__ == "__main__":
    import sys

    print(f"## {PART}\n\n{table(PART, CORPUS)}\n")
    if "-v" in sys.argv:
        print("\n".join(figures(PART, CORPUS)[2]))
