"""The fourth held-out corpus (tests/data/heldout_4.toml), written blind by an outside tester's
pass before the redaction code was read: recall per kind of personal data and the share of
innocent look-alikes destroyed, against floors that are what the code reaches today, so that any
regression fails. Run as a script to print the table and every miss."""

from __future__ import annotations

import tomllib

import pytest
from corpus_scoring import MOST_NEGATIVES_DESTROYED, figures, table
from helpers import ROOT

from formserver.privacy.text import possible_personal_data, redact_text

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


# The rules the fourth corpus taught, on sentences that are not in it: each hidden piece must go,
# each kept one must stay.
HIDDEN = [
    ("隔壁1203室嗰戶成日嘈。", "1203室"),
    ("對面8樓F室的住戶養狗。", "8樓F室"),
    ("Flat C, 9/F is owned by a Mr Chow.", "Flat C, 9/F"),
    ("my friend K. L. Wong said so", "K. L. Wong"),
    ("Sra. Maria Fernandes ligou.", "Maria Fernandes"),
    ("我爸林德華跌親。", "林德華"),
    ("Peter Chan 9123 4567", "Peter Chan"),
    ("她1988年出生。", "1988"),
    ("[3/5/2025 上午9:15] Ada Leung: 早晨", "Ada Leung"),
    ("隔籬屋黃Sir成日喺走廊食煙。", "黃Sir"),
    # Named from the resident's own flat, a flat tells the office where the resident lives.
    ("樓上13樓之1漏水。", "13樓之1"),
    ("楼上B座2203在装修", "2203"),
    ("The smoke comes from the flat below, 20A.", "20A"),
    ("my neighbour Mrs Fernandes in 12C", "12C"),
]
KEPT = [
    ("共1200业主投票。", "1200"),
    ("2019年生效的規定", "2019年"),
    ("晚上 10:00 地點：會所", "地點"),
    ("13樓之1門口堆滿雜物。", "13樓之1"),  # a flat as a place: the resident is asked
    ("Lift 3A and Gate 2B are broken; bus 1A is late.", "3A"),
    ("保安部經理陳Sir話會跟進。", "陳Sir"),
    ("去林荫道散步", "林荫道"),
]


@pytest.mark.parametrize(("text", "piece"), HIDDEN)
def test_what_the_fourth_corpus_taught_is_hidden_in_other_sentences_too(text, piece):
    assert piece not in redact_text(text, region="HK")


@pytest.mark.parametrize(("text", "piece"), KEPT)
def test_look_alikes_near_those_rules_are_kept(text, piece):
    assert piece in redact_text(text, region="HK")


def test_a_flat_named_only_as_a_place_is_asked_about_not_hidden():
    assert [finding.text for finding in possible_personal_data("13樓之1門口堆滿雜物。")] == \
        ["13樓之1"]


if __name__ == "__main__":
    print(table(PART, CORPUS))
    for miss in figures(PART, CORPUS)[2]:
        print(miss)
