"""The Simplified edition of the form server: every resident's page and email under /zh-hans/,
the words converted the Hong Kong way, what residents and the office wrote left as written."""

from __future__ import annotations

import io
import re

import pytest
from helpers import VALID_COMPLAINT, hidden_fields, office_message, post_form, submit
from jinja2 import DictLoader, Environment

from formserver import delivery
from formserver.editions import simplified, simplified_environment

# What tw2sp and friends get wrong for Hong Kong text (issue 14), and Traditional-only
# characters that must not survive on a Simplified page outside the language switch.
WRONG_CONVERSIONS = ("数据", "查找", "进程", "交互", "创建")
TRADITIONAL_ONLY = re.compile("[們這個時會處資訊與對應經並從後還]")
PREFIX = "/zh-hans"


def visible_text(html: str) -> str:
    """The page's words, without the language switch (which stays in Traditional) and tags."""
    html = re.sub(r'<a [^>]*lang="zh-Hant"[^>]*>.*?</a>', "", html, flags=re.S)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def assert_simplified(html: str, *, allowed: tuple[str, ...] = ()) -> None:
    text = visible_text(html)
    for value in allowed:
        text = text.replace(value, "")
    assert not [wrong for wrong in WRONG_CONVERSIONS if wrong in text]
    assert not TRADITIONAL_ONLY.findall(text), TRADITIONAL_ONLY.findall(text)[:10]
    # Any word the converter would still change was left in Traditional.
    left = [(a, b) for a, b in zip(text.split(), simplified(text).split(), strict=True) if a != b]
    assert not left, left[:10]
    assert '<html lang="zh-Hans">' in html


def test_the_words_of_the_site_are_converted_the_hong_kong_way():
    text = simplified("請查詢個人資料的處理程序，並以電郵上載相片。")
    assert text.startswith("请查询个人资料的处理程序")
    assert not any(wrong in text for wrong in WRONG_CONVERSIONS)
    assert "电子邮件" in text and "上传" in text


def test_templates_are_converted_but_what_they_are_given_is_not():
    traditional = Environment(loader=DictLoader({"page.html": "<p>投訴類別：{{ typed }}</p>"}))
    html = simplified_environment(traditional).get_template("page.html").render(
        typed="業主的資料")
    assert html == "<p>投诉类别：業主的資料</p>"
    assert traditional.get_template("page.html").render(typed="x") == "<p>投訴類別：x</p>"


def test_the_language_switch_stays_in_traditional():
    html = simplified('<a lang="zh-Hant" href="/complaint">繁體中文</a><p>繁體</p>')
    assert '<a lang="zh-Hant" href="/complaint">繁體中文</a>' in html and "<p>繁体</p>" in html


@pytest.mark.parametrize("path", ["/complaint", "/follow-up", "/status"])
def test_every_resident_page_has_a_simplified_edition_linked_both_ways(client, path):
    traditional = client.get(path).get_data(as_text=True)
    assert f'href="{PREFIX}{path}"' in traditional  # the language switch
    response = client.get(PREFIX + path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_simplified(html)
    assert f'href="{path}"' in html and 'lang="zh-Hant"' in html  # and back
    assert f'action="{PREFIX}{path}"' in html


def test_a_complaint_made_in_simplified_stays_in_simplified_and_keeps_the_residents_words(
        app, client, smtp_server):
    typed = {"subject": "升降機經常停用，這個月第三次", "description": "我們這座的升降機時常停用。"}
    response = post_form(client, prefix=PREFIX, **typed)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{PREFIX}/complaint/review")
    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert_simplified(review, allowed=(*typed.values(), VALID_COMPLAINT["name"],
                                       VALID_COMPLAINT["unit"], VALID_COMPLAINT["location"],
                                       VALID_COMPLAINT["impact"],
                                       VALID_COMPLAINT["expected_resolution"]))
    assert typed["description"] in review  # the resident's own words, as written
    assert f'action="{PREFIX}/complaint/send"' in review

    from helpers import send_reviewed

    response = send_reviewed(client, PREFIX)
    assert response.headers["Location"].endswith(f"{PREFIX}/complaint/sent")
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "投诉已提交" in sent and 'id="access-code"' in sent
    assert f'href="{PREFIX}/status?reference=' in sent

    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    office_text = office.get_body(("plain",)).get_content()
    assert "書面投訴" in office_text and typed["description"] in office_text  # estate's script
    [receipt] = [m for m in smtp_server.handler.parsed() if "chan.taiman" in m["To"]]
    receipt_text = receipt.get_body(("plain",)).get_content()
    assert "已收到您的投诉" in str(receipt["Subject"])
    assert f"{PREFIX}/status" in receipt_text and "查询码" in receipt_text
    assert not [wrong for wrong in WRONG_CONVERSIONS if wrong in receipt_text]


def test_mistakes_are_explained_in_simplified_with_every_answer_kept(client):
    response = post_form(client, prefix=PREFIX, name="", phone="", email="",
                         description="只有這一句。")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写您的姓名" in html and "请填写联络电话或电子邮件地址" in html
    assert "只有這一句。" in html  # kept as typed, not converted
    assert_simplified(html, allowed=("只有這一句。", VALID_COMPLAINT["unit"],
                                     VALID_COMPLAINT["subject"], VALID_COMPLAINT["location"],
                                     VALID_COMPLAINT["impact"],
                                     VALID_COMPLAINT["expected_resolution"]))


def test_error_pages_under_zh_hans_are_in_simplified(client):
    response = client.get(f"{PREFIX}/complaint/review/nothing-here")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "找不到这一页" in html and '<html lang="zh-Hans">' in html
    assert f'href="{PREFIX}/"' in html


def test_a_follow_up_in_simplified_is_refused_and_explained_in_simplified(client):
    data = {"reference": "20261127-ABC-DEF", "access_code": "ABCD-EFGH", "reason": "no_reply",
            "details": "仍未有回覆。", **hidden_fields(client, f"{PREFIX}/follow-up")}
    response = client.post(f"{PREFIX}/follow-up", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert_simplified(html, allowed=("仍未有回覆。",))


def test_the_status_page_in_simplified_shows_the_case(app, client, smtp_server):
    response = submit(client, prefix=PREFIX, email="")
    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', sent).group(1)
    code = re.search(r'id="access-code">([^<]+)<', sent).group(1)
    page = client.get(f"{PREFIX}/status").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    html = client.post(f"{PREFIX}/status", data={"csrf_token": token, "reference": reference,
                                                 "access_code": code}).get_data(as_text=True)
    assert "已提交" in html and reference in html
    assert_simplified(html, allowed=(VALID_COMPLAINT["subject"],))



def test_the_offices_reply_reaches_a_simplified_resident_in_simplified_in_its_own_words(
        app, client, smtp_server):
    from loop_helpers import act, case_path, deliver, text_of, to

    assert submit(client, prefix=PREFIX).status_code == 303
    [office] = to(deliver(app, smtp_server), "office@estate.test")
    assert "書面投訴" in text_of(office)  # the office reads the estate's script
    reply = "維修公司明早到場，請留意大堂通告。"
    assert act(client, case_path(office), "reply", reply).status_code == 303
    [relayed] = [m for m in to(deliver(app, smtp_server), VALID_COMPLAINT["email"])
                 if "回复" in str(m["Subject"])]
    body = text_of(relayed)
    assert reply in body  # the office's words as written
    assert f"{PREFIX}/status" in body
    assert not [wrong for wrong in WRONG_CONVERSIONS if wrong in body]
    assert not TRADITIONAL_ONLY.findall(body.replace(reply, ""))


def test_files_are_described_and_refused_in_simplified(client, tmp_path):
    """The file's kind and length on the review page, and a refused file's message, come from
    the code's own words: converted too."""
    from crafted import clip

    voice = ("voice.m4a", clip(tmp_path, "m4a", seconds=3).read_bytes(), "audio/mp4")
    response = post_form(client, [(io.BytesIO(voice[1]), voice[0], voice[2])], prefix=PREFIX)
    assert response.status_code == 303
    review = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"evidence-1\.m4a（录音，\d+ KB，长 3 秒）", review), review
    answers = tuple(VALID_COMPLAINT[k] for k in ("name", "unit", "subject", "description",
                                                 "location", "impact", "expected_resolution"))
    assert_simplified(review, allowed=answers)

    fake = (io.BytesIO(b"<html>not a video</html>" * 40), "clip.mp4", "video/mp4")
    refused = post_form(client, [fake], prefix=PREFIX)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "clip.mp4" in html
    assert_simplified(html, allowed=answers)


@pytest.mark.parametrize("prefix", ["", PREFIX])
def test_the_residents_answers_are_never_cached_in_either_edition(client, prefix):
    """The review page shows the name, unit, phone and email: no browser or proxy keeps it."""
    assert post_form(client, prefix=prefix).status_code == 303
    for path in ("/complaint", "/complaint/review", "/follow-up"):
        response = client.get(f"{prefix}{path}")
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_the_language_switch_never_loses_what_the_page_alone_holds(client):
    """A form with its mistakes (the answers are in that page only) and the confirmation (its
    access code is shown once) have no switch; every page that can be opened again has one."""
    switch = re.compile(r'<a class="lang-switch" href="([^"]*)"')
    assert switch.search(client.get(f"{PREFIX}/complaint").get_data(as_text=True))[1] == \
        "/complaint"
    mistakes = post_form(client, prefix=PREFIX, name="")
    assert mistakes.status_code == 422 and not switch.search(mistakes.get_data(as_text=True))
    assert post_form(client, prefix=PREFIX).status_code == 303
    review = client.get(f"{PREFIX}/complaint/review").get_data(as_text=True)
    assert switch.search(review)[1] == "/complaint/review"  # the draft is the session's
    from helpers import send_reviewed

    sent = client.get(send_reviewed(client, PREFIX).headers["Location"])
    assert 'id="access-code"' in sent.get_data(as_text=True)
    assert not switch.search(sent.get_data(as_text=True))
