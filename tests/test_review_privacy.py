"""The review page of a de-identified complaint: what was hidden is marked, what might be
personal data is asked about, and the resident's choice is applied before anything is spooled."""

from __future__ import annotations

import re

from helpers import VALID_COMPLAINT, office_message, post_form, send_form_fields

from formserver import delivery

UNSURE = "昨天見到Peter Chan在大堂吸煙。"  # an English name without a title: only "possible"


def review(client, **changes) -> str:
    response = post_form(client, anonymize="y", **changes)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def office_text(app, smtp_server) -> str:
    delivery.deliver_once(app.config)
    message = office_message(smtp_server)
    return message.get_body(("plain",)).get_content() + message.get_body(("html",)).get_content()


def test_each_redaction_is_marked_on_the_review_page(client):
    page = review(client, description="樓上李太成日十二點後拖傢俬，佢電話係 6234 5678。")
    marked = re.findall(r'<mark class="redaction">([^<]+)</mark>', page)
    assert "〔電話已隱藏〕" in marked and len(marked) >= 2
    assert "6234 5678" not in page and "李太" not in page
    assert VALID_COMPLAINT["name"] not in page  # withheld, not masked


def test_possible_personal_data_is_asked_about_and_hidden_when_ticked(app, client, smtp_server):
    page = review(client, description=UNSURE)
    assert 'name="hide" value="Peter Chan"' in page
    fields = {**send_form_fields(page), "hide": "Peter Chan"}
    assert client.post("/complaint/send", data=fields).status_code == 303
    text = office_text(app, smtp_server)
    assert "Peter Chan" not in text and "吸煙" in text


def test_what_the_resident_does_not_tick_goes_as_written(app, client, smtp_server):
    page = review(client, description=UNSURE)
    assert client.post("/complaint/send", data=send_form_fields(page)).status_code == 303
    assert "Peter Chan" in office_text(app, smtp_server)


def test_only_words_the_page_offered_can_be_hidden(app, client, smtp_server):
    page = review(client, description=UNSURE + "大堂燈壞了。")
    fields = {**send_form_fields(page), "hide": ["大堂", "Peter Chan"]}
    assert client.post("/complaint/send", data=fields).status_code == 303
    text = office_text(app, smtp_server)
    assert "大堂燈壞了" in text and "Peter Chan" not in text


def test_the_estates_published_numbers_are_kept(app, client, smtp_server):
    office_phone = app.config["SITE"]["office"]["phone"].removeprefix("〔示例〕")
    review(client, description=f"我打過管理處 {office_phone} 和 1823，都沒有人處理。")
    assert client.post("/complaint/send", data=send_form_fields(
        client.get("/complaint/review").get_data(as_text=True))).status_code == 303
    text = office_text(app, smtp_server)
    assert office_phone in text and "1823" in text


def test_without_de_identification_nothing_is_marked_or_asked(client):
    response = post_form(client, description=UNSURE)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<mark" not in page and 'name="hide"' not in page and "Peter Chan" in page


def test_one_wording_of_what_is_hidden_on_the_form_the_review_the_email_and_the_notice(
        app, client, smtp_server, built_site):
    wording = app.config["SITE"]["wording"]["deidentification"]
    assert wording in client.get("/complaint").get_data(as_text=True)
    page = review(client)
    assert wording in page and app.config["SITE"]["wording"]["deidentification_contact"] in page
    assert client.post("/complaint/send", data=send_form_fields(page)).status_code == 303
    assert wording in office_text(app, smtp_server)
    notice = (built_site / "privacy" / "index.html").read_text("utf-8")
    assert wording in notice
