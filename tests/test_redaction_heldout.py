"""Redaction against a second corpus written from the resident's side (tests/data/heldout_2.toml):
per part and kind, at least as many identifiers found as when the corpus was last measured, and
no more look-alikes destroyed. The floors are what the code reached, so that any regression
fails; raise them when the code finds more.

Part "tune" was written before reading the patterns and then improved against; "sealed" was
written with it but only measured; "after" was written after reading the patterns, as probes.

Print the figures with:
    .venv/bin/python tests/test_redaction_heldout.py
"""

from __future__ import annotations

import tomllib

import pytest
from corpus_scoring import TARGETS, figures, table
from helpers import ROOT

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "heldout_2.toml").read_text("utf-8"))

# part: ({kind: identifiers found at least}, look-alikes destroyed at most)
FLOORS = {
    "tune": ({"own": 34, "document": 6, "payment": 3, "phone": 8, "address": 17, "handle": 3,
              "birth_date": 2, "plate": 4, "person": 47}, 0),
    "sealed": ({"own": 20, "document": 3, "payment": 2, "phone": 4, "email": 1, "address": 8,
                "handle": 3, "birth_date": 3, "plate": 2, "person": 32}, 0),
    "after": ({"phone": 12, "address": 25, "handle": 1, "person": 33}, 0),
}


def test_the_second_corpus_has_enough_identifiers_and_look_alikes_written_before_the_code():
    before = [case for case in CORPUS["case"] if case["part"] in ("tune", "sealed")]
    assert sum(len(case["find"]) for case in before) >= 150
    assert sum(len(case["keep"]) for case in before) >= 100
    assert {kind for case in before for kind, _ in case["find"]} == set(TARGETS)


@pytest.mark.parametrize("part", FLOORS)
def test_recall_per_kind_and_negatives_destroyed_hold_their_floors(part):
    per_kind, (destroyed, _), misses = figures(part, CORPUS)
    floors, most_destroyed = FLOORS[part]
    report = table(part, CORPUS) + "\n" + "\n".join(misses)
    assert set(per_kind) == set(floors), report
    for kind, (hit, _) in per_kind.items():
        assert hit >= floors[kind], f"{kind}: {hit} found, {floors[kind]} before\n{report}"
    assert destroyed <= most_destroyed, report


if __name__ == "__main__":
    for part in FLOORS:
        print(f"## {part}\n\n{table(part, CORPUS)}\n")
