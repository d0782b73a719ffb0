"""Personal data in free text: redaction, the resident's own values, ID check digits."""

from __future__ import annotations

import random
import re
import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from idnumbers.nationalid import HKG, TWN
from stdnum.cn import ric

from formserver.privacy.identifiers import cnid_is_valid, hkid_is_valid, twid_is_valid
from formserver.privacy.matching import PLACEHOLDERS
from formserver.privacy.text import (
    find_personal_data,
    marked_segments,
    redact_text,
)

ROOT = Path(__file__).resolve().parent.parent
PHONE, EMAIL, ID, DOCUMENT, PLATE = (
    PLACEHOLDERS[kind] for kind in ("phone", "email", "hkid", "document", "plate")
)

# (text, identifier, placeholder): the identifier must go and the placeholder must come.
IDENTIFIERS_IN_TEXT = [
    # Hong Kong phones
    ("請致電 9123 4567 聯絡我。", "9123 4567", PHONE),
    ("電話91234567聯絡", "91234567", PHONE),
    ("手機：９１２３４５６７。", "９１２３４５６７", PHONE),
    ("號碼為９１２３－４５６７，謝謝", "９１２３－４５６７", PHONE),
    ("電話　9123　4567", "9123　4567", PHONE),
    ("（電話：+852 9123-4567）", "+852 9123-4567", PHONE),
    ("（電話：＋８５２ ９１２３ ４５６７）", "＋８５２ ９１２３ ４５６７", PHONE),
    ("Tel: (852) 6123 4567", "(852) 6123 4567", PHONE),
    ("住宅電話 2345 6789，晚上才有人接", "2345 6789", PHONE),
    ("whatsapp 5123-4567 please", "5123-4567", PHONE),
    ("Tel91234567", "91234567", PHONE),
    ("聯絡電話「98765432」", "98765432", PHONE),
    ("+852-2812-3456 是管理處的號碼", "+852-2812-3456", PHONE),
    ("請打 9123 4567 或 6123 4567。", "6123 4567", PHONE),
    # Macau
    ("澳門手機 +853 6612 3456", "+853 6612 3456", PHONE),
    ("(853)28381234 是澳門的電話", "(853)28381234", PHONE),
    # Taiwan
    ("台灣手機 0912-345-678 。", "0912-345-678", PHONE),
    ("+886 912 345 678 是我媽媽", "+886 912 345 678", PHONE),
    ("台北電話 02-2345-6789，", "02-2345-6789", PHONE),
    # mainland
    ("內地手機 138 1234 5678", "138 1234 5678", PHONE),
    ("請打+86 138-1234-5678", "+86 138-1234-5678", PHONE),
    ("手机13812345678联系", "13812345678", PHONE),
    ("北京座機 010-12345678", "010-12345678", PHONE),
    # e-mail
    ("電郵 chan.taiman@example.com，謝謝", "chan.taiman@example.com", EMAIL),
    (
        "請回覆至：tai_man+complaint@mail.example.com.hk。",
        "tai_man+complaint@mail.example.com.hk",
        EMAIL,
    ),
    ("email me at CHAN@EXAMPLE.ORG", "CHAN@EXAMPLE.ORG", EMAIL),
    ("電郵：ｃｈａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｃｈａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", EMAIL),
    ("「x@y.hk」", "x@y.hk", EMAIL),
    # Hong Kong identity cards
    ("身份證 A123456(3)", "A123456(3)", ID),
    ("身份證號碼：A1234563。", "A1234563", ID),
    ("HKID: AB987654(3)", "AB987654(3)", ID),
    ("（Z683365(A)）", "Z683365(A)", ID),
    ("身份證號碼為 k345678（1）", "k345678（1）", ID),
    ("身份證ＸＡ０００００１６號", "ＸＡ０００００１６", ID),
    # mainland resident identity cards
    ("內地身份證 11010519491231002X", "11010519491231002X", ID),
    ("身份证号码：440304198506151237，", "440304198506151237", ID),
    ("ID 440304 19850615 1237", "440304 19850615 1237", ID),
    ("11010519491231002x號", "11010519491231002x", ID),
    # Taiwan IDs and resident certificates
    ("台灣身分證 A123456789", "A123456789", ID),
    ("身分證字號：F223456786。", "F223456786", ID),
    ("舊式居留證 AC12345679", "AC12345679", ID),
    ("新式居留證號碼 A800000014", "A800000014", ID),
    # passports and travel permits
    ("護照號碼：K12345678", "K12345678", DOCUMENT),
    ("Passport No. H12345678", "H12345678", DOCUMENT),
    ("回鄉證 H1234567890", "H1234567890", DOCUMENT),
    ("中國護照 EA1234567", "EA1234567", DOCUMENT),
    ("港澳通行證（C12345678）", "C12345678", DOCUMENT),
    ("台胞證號碼：12345678", "12345678", DOCUMENT),
    ("台灣護照號碼 312345678", "312345678", DOCUMENT),
    # vehicle plates
    ("車牌 AB 1234 的私家車", "AB 1234", PLATE),
    ("那部車（XY123）經常亂泊", "XY123", PLATE),
    ("我的車位被 TT 88 佔用", "TT 88", PLATE),
    ("粵B·12345 停在車位", "粵B·12345", PLATE),
    ("一輛粤B12345經常在門口", "粤B12345", PLATE),
    ("新能源車京A·D12345", "京A·D12345", PLATE),
    ("粵Z·1234港 的跨境車", "粵Z·1234港", PLATE),
    ("台灣車牌 ABC-1234", "ABC-1234", PLATE),
    ("機車 123-ABC 停在門口", "123-ABC", PLATE),
    ("plate: 1234-AB", "1234-AB", PLATE),
]

# Numbers that are not personal data and must come through untouched.
ORDINARY_TEXT = [
    "2024-03-15 下午14:30 發生",
    "2024年3月15日晚上",
    "15/3/2024 晚上",
    "收費 1,280 元",
    "HK$3,500 管理費",
    "¥12345.50",
    "電費 $1,234.50",
    "工程預算 HKD 61234567",
    "12樓漏水",
    "12/F 走廊",
    "3部電梯壞了",
    "加價 15%",
    "2023年起",
    "參考編號 HK-20261127-7KQ4",
    "參考編號HK-20261127-7KQ4，請跟進",
    "編號 12345678",
    "第3座 12樓 B室",
    "Block 5, 20/F, Flat C",
    "等了 45 分鐘",
    "共 120 戶",
    "型號 AB 1234 的冷氣機",
    "分機 1234",
    "20240315 的會議紀錄",
    "時間 09:00-18:00",
    "保養期至 2025/12/31",
    "門牌 88 號",
    "Room 1203",
    "A座及B座",
    "PM2.5 指數 35",
    "2024-2025 年度",
    "30000 元按金",
    "3月15日至4月2日",
    "A123456(4) 不是有效的身份證",
    "11010519491231002Y",
]


def digit_runs(identifier: str) -> list[str]:
    return re.findall(r"\d{3,}", identifier)


@pytest.mark.parametrize(("text", "identifier", "placeholder"), IDENTIFIERS_IN_TEXT)
def test_an_identifier_in_free_text_is_replaced_by_its_placeholder(text, identifier, placeholder):
    redacted = redact_text(text)
    assert placeholder in redacted
    assert identifier not in redacted
    for run in digit_runs(identifier):
        assert run not in redacted


@pytest.mark.parametrize("text", ORDINARY_TEXT)
def test_ordinary_numbers_survive_redaction(text):
    assert redact_text(text) == text


def test_the_corpus_is_large_enough():
    assert len(IDENTIFIERS_IN_TEXT) + len(ORDINARY_TEXT) >= 60


def test_text_around_an_identifier_is_kept_with_its_full_width_punctuation():
    assert (
        redact_text("「請致電９１２３ ４５６７（晚上）。」") == "「請致電〔電話已隱藏〕（晚上）。」"
    )


def test_redacting_text_without_identifiers_changes_nothing():
    assert redact_text("") == ""
    assert (
        redact_text("升降機自三月起經常故障，請盡快維修。")
        == "升降機自三月起經常故障，請盡快維修。"
    )


def test_find_personal_data_reports_spans_and_kinds_in_text_order():
    text = "電話 9123 4567，電郵 a@b.hk，身份證 A123456(3)"
    found = find_personal_data(text)
    assert [(f.start, f.end, f.kind, f.certain) for f in found] == [
        (3, 12, "phone", True),
        (16, 22, "email", True),
        (27, 37, "hkid", True),
    ]
    assert [f.text for f in found] == ["9123 4567", "a@b.hk", "A123456(3)"]


def test_marked_segments_put_the_redacted_text_together_with_each_placeholders_kind():
    segments = marked_segments("請致電 9123 4567，或電郵 a@b.hk。")
    redacted = "請致電 〔電話已隱藏〕，或電郵 〔電郵已隱藏〕。"
    assert "".join(piece for piece, _ in segments) == redacted
    assert [kind for _, kind in segments] == [None, "phone", None, "email", None]


def test_a_region_outside_the_four_is_refused():
    with pytest.raises(ValueError):
        redact_text("9123 4567", region="US")


def test_the_region_only_changes_which_region_is_tried_first():
    assert redact_text("手機 0912 345 678", region="TW") == "手機 〔電話已隱藏〕"
    assert redact_text("手機 0912 345 678", region="HK") == "手機 〔電話已隱藏〕"


# --------------------------------------------------------------------------- own values

OWN = {
    "name": "陳大文 Chan Tai Man",
    "unit": "第3座 12樓 B室",
    "phone": "+852 9123 4567",
    "email": "chan.taiman@example.com",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我係陳大文。", "我係〔姓名已隱藏〕。"),
        ("我係陳 大文。", "我係〔姓名已隱藏〕。"),
        ("I am Chan Tai Man.", "I am 〔姓名已隱藏〕."),
        ("I am CHAN Tai-man.", "I am 〔姓名已隱藏〕."),
        ("Signed: Tai Man Chan", "Signed: 〔姓名已隱藏〕"),
        ("ChanTaiMan wrote", "〔姓名已隱藏〕 wrote"),
        ("住第3座 12樓 B室，", "住〔單位已隱藏〕，"),
        ("住3座12樓B，", "住〔單位已隱藏〕，"),
        ("就在12樓B室門外", "就在〔單位已隱藏〕門外"),
        ("第13座12樓B室", "第13座〔單位已隱藏〕"),
        ("致電9123-4567", "致電〔電話已隱藏〕"),
        ("致電 00852 91 23 45 67", "致電 〔電話已隱藏〕"),
        ("電郵 Chan.TaiMan@Example.com", "電郵 〔電郵已隱藏〕"),
        ("陳大明是鄰居", "陳大明是鄰居"),
    ],
)
def test_the_residents_own_values_are_redacted_in_their_other_spellings(text, expected):
    assert redact_text(text, own=OWN) == expected


def test_an_own_name_with_accents_is_redacted_as_words():
    own = {"name": "José García"}
    assert redact_text("Firmado: José García.", own=own) == "Firmado: 〔姓名已隱藏〕."
    assert redact_text("José Garcías", own=own) == "José Garcías"


def test_own_values_can_be_given_as_pairs():
    assert redact_text("我係陳大文", own=[("name", "陳大文")]) == "我係〔姓名已隱藏〕"


def test_an_unknown_kind_of_own_value_is_refused():
    with pytest.raises(ValueError):
        redact_text("text", own={"nickname": "阿文"})


def test_an_own_value_that_is_part_of_a_placeholder_does_not_loop():
    assert (
        redact_text("隱藏的人 9123 4567", own={"name": "隱藏"})
        == "〔姓名已隱藏〕的人 〔電話已隱藏〕"
    )


def test_a_short_one_word_own_name_is_not_redacted_from_ordinary_words():
    assert redact_text("Man on the 12/F", own={"name": "Man"}) == "Man on the 12/F"


# --------------------------------------------------------------------------- properties

CORPUS = tomllib.loads((ROOT / "tests" / "data" / "redaction_corpus.toml").read_text("utf-8"))
IDENTIFIER_SAMPLES = [identifier for _, identifier, _ in IDENTIFIERS_IN_TEXT] + [
    identifier for case in CORPUS["case"] for _, identifier in case["find"]]
LOOK_ALIKES = [negative for case in CORPUS["case"] for negative in case["keep"]]
text_pieces = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789０１２３４５６７８９ +-()（）@.xXaA座樓室車號電話", max_size=20),
    st.sampled_from(IDENTIFIER_SAMPLES + ORDINARY_TEXT + LOOK_ALIKES
                    + list(PLACEHOLDERS.values())),
)
free_text = st.lists(text_pieces, max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(free_text)
def test_redaction_never_raises_and_is_idempotent(text):
    once = redact_text(text, own=OWN)
    assert redact_text(once, own=OWN) == once


@settings(max_examples=200, deadline=None)
@given(free_text)
def test_no_identifier_is_left_after_redaction(text):
    left = find_personal_data(redact_text(text, own=OWN), own=OWN)
    assert [finding for finding in left if finding.certain] == []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_redaction_of_any_text_never_raises(text):
    assert isinstance(redact_text(text), str)


# --------------------------------------------------------------------------- ID numbers


def random_candidates(seed: int, make, count: int = 3000) -> list[str]:
    generator = random.Random(seed)
    return [make(generator) for _ in range(count)]


def hkid_candidate(generator: random.Random) -> str:
    letters = "".join(generator.choices(string.ascii_uppercase, k=generator.choice((1, 2))))
    digits = "".join(generator.choices(string.digits, k=6))
    candidate = letters + digits + generator.choice("0123456789A")
    if generator.random() < 0.1:  # some malformed ones too
        candidate = "".join(
            generator.choices(string.ascii_uppercase + string.digits, k=len(candidate))
        )
    return candidate


def twid_candidate(generator: random.Random) -> str:
    candidate = (
        generator.choice(string.ascii_uppercase)
        + generator.choice("12")
        + "".join(generator.choices(string.digits, k=8))
    )
    if generator.random() < 0.1:
        candidate = "".join(generator.choices(string.ascii_uppercase + string.digits, k=10))
    return candidate


def test_hkid_check_digits_agree_with_idnumbers():
    candidates = random_candidates(20261127, hkid_candidate)
    ours = [hkid_is_valid(candidate) for candidate in candidates]
    assert ours == [HKG.NationalID.validate(candidate) for candidate in candidates]
    assert 100 < sum(ours) < len(candidates) - 100


def test_taiwan_id_check_digits_agree_with_idnumbers():
    candidates = random_candidates(1127, twid_candidate)
    ours = [twid_is_valid(candidate) for candidate in candidates]
    assert ours == [TWN.NationalID.validate(candidate) for candidate in candidates]
    assert 100 < sum(ours) < len(candidates) - 100


# Spellings residents write: brackets, case, spaces; Taiwan's old and new resident certificates.
CHECK_DIGIT_SPELLINGS = [
    (hkid_is_valid, "A123456(3)", True), (hkid_is_valid, "a123456(3)", True),
    (hkid_is_valid, "A123456 (3)", True), (hkid_is_valid, "Z683365(A)", True),
    (hkid_is_valid, "A123456(", False), (hkid_is_valid, "A123456)3", False),
    (hkid_is_valid, "A12345(3)", False), (hkid_is_valid, "", False),
    (twid_is_valid, "AA00000009", True), (twid_is_valid, "AC12345679", True),
    (twid_is_valid, "AC12345678", False), (twid_is_valid, "A800000014", True),
    (twid_is_valid, "A800000015", False), (twid_is_valid, "B912345674", True),
    (twid_is_valid, "A323456789", False), (twid_is_valid, "a123456789", True),
]


@pytest.mark.parametrize(("is_valid", "number", "valid"), CHECK_DIGIT_SPELLINGS,
                         ids=[f"{check.__name__}-{number}" for check, number, _ in
                              CHECK_DIGIT_SPELLINGS])
def test_id_numbers_are_checked_in_every_spelling_residents_write(is_valid, number, valid):
    assert is_valid(number) is valid


def test_mainland_ids_are_checked_with_their_check_digit_and_birth_date():
    bodies = ["44030419850615123", "11010519491231002", "31011520001212345"]
    for body in bodies:
        number = body + ric.calc_check_digit(body + "0")
        assert cnid_is_valid(number)
        wrong = body + ("0" if number[-1] != "0" else "1")
        assert not cnid_is_valid(wrong)
        assert redact_text(f"身份证{number}") == "身份证〔身份證號碼已隱藏〕"
        assert redact_text(f"身份证{wrong}") == f"身份证{wrong}"
    # A check digit that fits an impossible birth date (30 February) does not count.
    impossible = "44030419850230123"
    assert not cnid_is_valid(impossible + ric.calc_check_digit(impossible + "0"))
