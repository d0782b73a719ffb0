"""Redaction of every kind of personal data issue 11 lists: what is hidden, in which spellings,
and what is kept (staff in their role, public numbers, look-alikes); the two levels of finding;
de-identification of a whole complaint."""

from __future__ import annotations

import threading
import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from formserver.complaint import Complaint
from formserver.privacy import segmenter
from formserver.privacy.complaint import WITHHELD, deidentify, possibly_personal, published_contacts
from formserver.privacy.identifiers import cnid_is_valid
from formserver.privacy.matching import PLACEHOLDERS
from formserver.privacy.text import find_personal_data, possible_personal_data, redact_text

ROOT = Path(__file__).resolve().parent.parent



@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("保安員陳先生態度惡劣", "保安員陳先生"),
        ("張經理話會跟進", "張經理"),
        ("管理員李小姐冇回覆", "管理員李小姐"),
        ("清潔工人黃姐好勤力", "清潔工人黃姐"),
        ("the security guard Mr Chan was asleep", "Mr Chan"),
    ],
)
def test_staff_named_in_their_role_are_kept(text, kept):
    assert kept in redact_text(text)


@pytest.mark.parametrize("name", ["李太", "王伯伯", "張先生", "林小姐", "黃姐", "Wong Siu Ming"])
def test_other_peoples_names_are_hidden(name):
    assert name not in redact_text(f"鄰居{name}成日喺走廊堆雜物，我同{name}講過好多次。")


@pytest.mark.parametrize(("text", "name"), [
    ("樓上嗰個 Kelvin 夜晚成日拖櫈", "Kelvin"),
    ("我已經同Maggie講咗三次", "Maggie"),
    ("佢個工人Joyce話唔知", "Joyce"),
    ("隔籬屋Ricky，佢架車泊咗喺我車位", "Ricky"),
])
def test_an_english_given_name_alone_in_chinese_text_is_hidden(text, name):
    assert name not in redact_text(text)


@pytest.mark.parametrize(("text", "kept"), [
    ("管理員Kelvin話會跟進", "Kelvin"),  # staff in their role
    ("貼咗張 Hello Kitty 貼紙喺門口", "Hello Kitty"),
    ("5月 May 已經投訴過", "May"),  # a month, not on the list
    ("I told Peter in the lobby", "Peter"),  # English: the cues and titles decide
])
def test_an_english_word_that_is_no_one_or_staff_in_role_is_kept(text, kept):
    assert kept in redact_text(text)


def test_the_estates_published_numbers_are_kept_only_when_passed_in():
    text = "管理處電話 2345 6789，鄰居電話 6123 4567"
    kept = redact_text(text, keep=["〔示例〕2345 6789"])
    assert kept == "管理處電話 2345 6789，鄰居電話 〔電話已隱藏〕"
    assert "2345 6789" not in redact_text(text)


def test_public_numbers_of_the_region_are_kept():
    text = "我打咗 999 同 1823，內地熱線 12345、12315、110、119、120"
    assert redact_text(text, region="HK") == text


@pytest.mark.parametrize(("text", "kept"), [
    ("佢哋喺群組度出我張相，仲講埋我住邊。", "出我張相"),
    ("呢張單係上個月嘅", "呢張單"),
    ("你張卡過期咗", "你張卡"),
])
def test_a_surname_that_is_a_measure_word_after_a_pronoun_or_number_is_kept(text, kept):
    assert kept in redact_text(text)


@pytest.mark.parametrize(("text", "kept"), [
    ("壓壞了一個電飯煲（美的 MB-FB40S701）", "MB-FB40S701"),
    ("頂樓住戶林先生於 2026 年 10 月起搭建鐵皮屋", "2026 年 10 月"),
    ("里長許先生說會幫忙催", "里長許先生"),
    ("本社區（大安區仁愛段三小段 512 地號）", "三小段"),
    ("業主立案法團主席鄧永康先生會跟進", "主席鄧永康先生"),
    ("booking refs GYM-5521, GYM-5588 and GYM-5610", "GYM-5610"),
    ("電錶 No. 7723-0918 冇鎖", "7723-0918"),
    ("发票号码 No.44031926。", "44031926"),
])
def test_look_alikes_from_the_fifth_corpus_are_kept(text, kept):
    assert kept in redact_text(text, region="TW")


def test_a_published_number_then_a_count_in_chinese_is_kept():
    text = "管理處：我打過 2345 6789 三次都冇人聽。"
    assert redact_text(text, region="HK", keep=["2345 6789"]) == text


def test_a_street_address_takes_its_estate_block_and_flat_but_not_a_year_after_it():
    text = "地址：广东省深圳市南山区桃园路 86 号翠景花园 9 栋 2304"
    assert redact_text(text) == "地址：〔地址已隱藏〕"
    assert redact_text("科技园路8号 3栋 2019年建成") == "〔地址已隱藏〕 2019年建成"


@pytest.mark.parametrize(("text", "hidden"), [
    ("I met Bashir from 27B in the lift", ["Bashir", "27B"]),
    ("The couple in 19C have a dog", ["19C"]),
    ("放到了隔壁B座2104，B座2104的业主说没收到", ["2104"]),
])
def test_a_short_flat_of_a_household_is_hidden_wherever_it_is_written(text, hidden):
    redacted = redact_text(text)
    assert not [piece for piece in hidden if piece in redacted]
    assert redact_text("Lift 3A is broken") == "Lift 3A is broken"


def test_a_titled_name_is_hidden_whole_not_from_its_last_character():
    assert redact_text("叫陳大文先生嚟") == "叫〔姓名已隱藏〕嚟"


@pytest.mark.parametrize(("text", "kept", "hidden"), [
    ("好像是住在新北市板橋區文化路一段188號的那戶人家", "好像是住在", "新北市"),
    ("佢搬咗去广东省深圳市南山区科技园路8号", "佢搬咗去", "深圳市"),
])
def test_an_address_takes_none_of_the_sentence_before_it(text, kept, hidden):
    redacted = redact_text(text)
    assert redacted.startswith(kept + "〔地址已隱藏〕") and hidden not in redacted


@pytest.mark.parametrize(("text", "handle"), [
    ("我個微信係 vx: abc_12345 有事搵我", "abc_12345"),
    ("IG: @chan999 同佢講", "chan999"),
    ("電郵 tai1823@example.com 搵我", "tai1823"),
])
def test_a_handle_or_email_holding_a_public_numbers_digits_is_still_hidden(text, handle):
    assert handle not in redact_text(text, region="CN")


def test_a_long_number_with_no_cue_is_only_possible_and_ticking_it_hides_every_occurrence():
    text = "佢話 5566778899 係佢個號碼，記住 5566778899。"
    first, second = possible_personal_data(text)
    assert (first.kind, first.text, first.certain) == ("number", "5566778899", False)
    assert second.text == first.text and second.start > first.end
    possible = first
    assert redact_text(text) == text
    hidden = redact_text(text, also=[possible.text])
    assert "5566778899" not in hidden and hidden.count(PLACEHOLDERS["number"]) == 2


def test_words_the_resident_ticks_are_hidden_even_if_nothing_found_them():
    assert redact_text("我個花名叫肥仔明", also=["肥仔明"]) == "我個花名叫〔已隱藏〕"


def test_a_phone_in_chinese_numerals_and_an_obfuscated_email_are_hidden():
    redacted = redact_text("電話九一二三四五六七，電郵 chan at example dot com")
    assert redacted == "電話〔電話已隱藏〕，電郵 〔電郵已隱藏〕"


@pytest.mark.parametrize(
    "spelling",
    ["陈大文", "陳 大 文", "陳先生", "陳生", "大文", "阿文", "Chan Tai Man", "CHAN TAI MAN",
     "Tai-man Chan", "Taiman Chan", "Mr Chan", "Chan Dawen"],
)
def test_the_residents_own_name_is_hidden_in_every_spelling(spelling):
    redacted = redact_text(f"我係{spelling}。", own={"name": "陳大文"})
    assert spelling.casefold() not in redacted.casefold()


@pytest.mark.parametrize("spelling", ["12B", "12樓B室", "十二樓B室", "Flat B, 12/F", "12/F B室",
                                      "3座12樓B室", "Block 3, 12/F, Flat B"])
def test_the_residents_own_unit_is_hidden_in_every_form(spelling):
    redacted = redact_text(f"我住{spelling}，", own={"unit": "第3座 12樓 B室"})
    assert redacted == "我住〔單位已隱藏〕，"


@pytest.mark.parametrize(("text", "own_name"), [
    ("Thanks, Tom", "Thomas Hargreaves"), ("Thank you. Sarah W.", "Sarah Whitfield"),
    ("Regards, T. Hargreaves", "Thomas Hargreaves"),
])
def test_the_residents_english_nickname_or_initials_are_hidden(text, own_name):
    assert redact_text(text, own={"name": own_name}).endswith("〔姓名已隱藏〕")


def test_the_residents_romanised_surname_with_a_chinese_title_is_hidden_unless_staff():
    own = {"name": "梁嘉欣"}
    assert redact_text("請更正。Leong 小姐", own=own) == "請更正。〔姓名已隱藏〕"
    assert redact_text("管理員Leung小姐話唔得", own=own) == "管理員Leung小姐話唔得"


@pytest.mark.parametrize(("text", "unit", "region"), [
    ("張先生 B7-3", "B棟7樓之3", "TW"),
    ("Ana Rocha, Bloco 3, 7.º F", "第3座 7樓 F", "MO"),
])
def test_the_residents_unit_in_a_short_or_portuguese_form_is_hidden(text, unit, region):
    assert redact_text(text, region=region, own={"unit": unit}).endswith("〔單位已隱藏〕")
    assert redact_text("電梯B7-3號維修", region="TW", own={"unit": "C棟7樓之3"}) == "電梯B7-3號維修"


def test_a_nickname_that_is_an_everyday_word_is_kept():
    text = "Will you fix it? Bill the office."
    assert redact_text(text, own={"name": "William Tomlinson"}) == text


@pytest.mark.parametrize("text", ["報了我的手機尾號 7810 就拿走了", "my number ending in 7810",
                                  "the last four digits are 7810"])
def test_the_last_four_digits_of_the_residents_phone_after_a_word_for_them_are_hidden(text):
    redacted = redact_text(text, region="CN", own={"phone": "139 2456 7810"})
    assert "7810" not in redacted and "〔電話已隱藏〕" in redacted
    assert redact_text("房間 7810 號", own={"phone": "139 2456 7810"}) == "房間 7810 號"


@pytest.mark.parametrize(("text", "identifier"), [
    ("Her passport no. is P4829175B (Philippines)", "P4829175B"),
    ("her Spanish passport number is PAB482913.", "PAB482913"),
    ("A white Toyota Alphard, registration PL 7366, has been parked in my space", "PL 7366"),
    ("O meu carro (matrícula MN-38-21) foi riscado", "MN-38-21"),
])
def test_a_document_or_plate_after_a_cue_in_any_words_is_hidden(text, identifier):
    assert identifier not in redact_text(text)


@pytest.mark.parametrize("spelling", ["1203室", "B座1203", "12樓03室", "Room 1203"])
def test_a_unit_with_a_numbered_flat_is_hidden_as_a_room_number(spelling):
    assert redact_text(f"我住{spelling}，", own={"unit": "B座12樓03室"}) == "我住〔單位已隱藏〕，"


@pytest.mark.parametrize(
    ("text", "kept"),
    [("停車場 LG2 有積水", "LG2"), ("車位 CP 15 被人霸佔", "CP 15"),
     ("部 Mazda CX 5 泊咗喺度", "CX 5"), ("一架 Tesla Model 3 好靜", "Model 3"),
     ("工單 WO-2026-1187 未處理", "WO-2026-1187"),
     ("參考編號 20261127-K7Q-4M2", "20261127-K7Q-4M2"), ("3/F lobby 冇燈", "3/F lobby"),
     ("Registration for parking space CP 15 is open", "CP 15")],
)
def test_look_alikes_of_plates_and_numbers_are_kept(text, kept):
    assert kept in redact_text(text)


@pytest.mark.parametrize(
    ("number", "valid"),
    [("430421197805234134", True),  # a district code abolished since: still valid for life
     ("430421197805234135", False), ("110105194912310020", False), ("440304198502301239", False)],
)
def test_mainland_ids_are_checked_by_their_own_check_character_not_the_district(number, valid):
    assert cnid_is_valid(number) is valid


def test_macau_ids_are_found_with_brackets_or_after_a_cue():
    assert redact_text("1234567(8)") == "〔身份證號碼已隱藏〕"
    assert redact_text("澳門身份證 5215432 8") == "澳門身份證 〔身份證號碼已隱藏〕"
    assert redact_text("編號 5215432 8") == "編號 5215432 8"


def test_the_segmenter_loads_once_even_when_threads_ask_at_the_same_time():
    results = []
    threads = [threading.Thread(target=lambda: results.append(segmenter._load()))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(result) for result in results}) == 1


def test_deidentify_withholds_the_resident_block_and_keeps_the_estates_published_numbers():
    site = tomllib.loads((ROOT / "site.toml").read_text("utf-8"))
    complaint = Complaint(
        reference="20261127-K7Q-4M2", submitted_at=datetime(2026, 11, 27, 9), reply_due=date(
            2026, 11, 30), recipient="office", category="facilities", name="陳大文",
        unit="第3座 12樓 B室", phone="9123 4567", email="chan.taiman@example.com",
        subject="陳生投訴升降機",
        description="我陳大文住12B，打過管理處 2345 6789，佢話打 6123 4567。",
        occurred_at=None, location="第3座大堂", impact="", expected_resolution="請回覆陳先生。",
    )
    office = deidentify(complaint, "HK", keep=published_contacts(site))
    assert (office.name, office.unit, office.phone, office.email) == (WITHHELD, WITHHELD, "", "")
    assert office.anonymized
    assert office.description == ("我〔姓名已隱藏〕住〔單位已隱藏〕，打過管理處 2345 6789，"
                                  "佢話打 〔電話已隱藏〕。")
    assert office.subject == "〔姓名已隱藏〕投訴升降機"
    assert office.location == "第3座大堂"  # a common area of the block, not the resident's flat
    assert "〔示例〕" not in "".join(published_contacts(site))


def test_the_review_page_is_asked_each_possible_finding_once_and_hides_what_is_ticked():
    complaint = Complaint(
        reference="20261127-K7Q-4M2", submitted_at=datetime(2026, 11, 27, 9),
        reply_due=date(2026, 11, 30), recipient="office", category="neighbours", name="陳大文",
        unit="第3座 12樓 B室", phone="9123 4567", email="", subject="13樓B室門口堆滿雜物",
        description="13樓B室門口堆滿雜物，佢畀咗個號碼 5566778899。", occurred_at=None,
        location="13樓B室門外", impact="", expected_resolution="",
    )
    asked = possibly_personal(complaint, "HK")
    assert [(finding.kind, finding.text) for finding in asked] == [("unit", "13樓B室"),
                                                                  ("number", "5566778899")]
    office = deidentify(complaint, "HK", also=[asked[0].text])
    assert "13樓B室" not in office.subject + office.description + office.location
    assert "5566778899" in office.description  # not ticked: the resident judged it harmless


def test_ordinary_prose_about_complaints_loses_nothing():
    # The source of the site's guidance (3,300 characters, kept byte for byte): no personal data.
    text = (ROOT / "tests" / "data" / "complaint-guidance.zh.txt").read_text("utf-8")
    assert [f.text for f in find_personal_data(text) if f.certain] == []
    assert redact_text(text) == text
