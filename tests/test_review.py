"""Review before sending: the draft, its "change" links, expiry, and the written complaint."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import VALID_COMPLAINT, jpeg, office_message, post_form, send_reviewed, upload

from formserver import delivery


def spooled(app) -> list[Path]:
    return sorted((Path(app.config["SPOOL_DIR"]) / "new").glob("*.eml"))


def test_a_valid_form_leads_to_a_review_and_nothing_is_sent_yet(app, client):
    response = post_form(client, files=[upload(jpeg(), "門口.jpg", "image/jpeg")])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/complaint/review")
    review = client.get("/complaint/review").get_data(as_text=True)
    assert "尚未送出" in review and "書面投訴材料" in review
    for field in ("name", "unit", "subject", "description", "location", "expected_resolution"):
        assert VALID_COMPLAINT[field] in review, field
        assert f'href="/complaint?change=1#{field}"' in review, field
    assert "evidence-1.jpg" in review and "門口" not in review
    assert 'action="/complaint/send"' in review
    assert spooled(app) == []


def test_the_review_shows_what_was_hidden_when_the_resident_asked(client):
    post_form(client, anonymize="y", description="請致電 6123 4567 聯絡我。")
    review = client.get("/complaint/review").get_data(as_text=True)
    assert "〔投訴人要求不公開〕" in review and "陳大文" not in review and "9123" not in review
    assert "〔電話已隱藏〕" in review and "6123 4567" not in review
    assert "已隱藏投訴人的個人資料" in review


def test_change_links_bring_back_every_answer_and_keep_the_files(app, client, smtp_server):
    post_form(client, anonymize="y", files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    form = client.get("/complaint?change=1").get_data(as_text=True)
    assert 'value="陳大文"' in form  # the resident's own words, not the masked ones
    assert VALID_COMPLAINT["description"] in form
    assert 'id="kept-files"' in form and "已附上 1 個檔案" in form
    assert re.search(r'<input[^>]*id="keep_evidence"[^>]*value="y"', form)

    response = post_form(client, subject="改過的標題", keep_evidence="y")
    assert response.headers["Location"].endswith("/complaint/review")
    review = client.get("/complaint/review").get_data(as_text=True)
    assert "改過的標題" in review and "evidence-1.jpg" in review
    send_reviewed(client)
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    assert "改過的標題" in office["Subject"]
    assert [p.get_filename() for p in office.iter_attachments()] == ["evidence-1.jpg",
                                                                      "complaint.json"]


def test_the_same_reference_survives_changes(client):
    post_form(client)
    first = re.search(r"\d{8}-\w{3}-\w{3}", client.get("/complaint/review").get_data(True))
    client.get("/complaint?change=1")
    post_form(client, subject="第二次")
    second = re.search(r"\d{8}-\w{3}-\w{3}", client.get("/complaint/review").get_data(True))
    assert first.group(0) == second.group(0)


def test_sending_deletes_the_drafts_files_and_a_second_click_sends_nothing(app, client,
                                                                           smtp_server):
    post_form(client, files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    drafts = Path(app.config["DRAFT_DIR"])
    assert len(list(drafts.glob("*/evidence-*"))) == 1
    first = send_reviewed(client)
    assert first.headers["Location"].endswith("/complaint/sent")
    assert list(drafts.glob("*/evidence-*")) == []
    again = send_with_a_fresh_token(client)
    assert again.headers["Location"].endswith("/complaint/sent")
    assert len(spooled(app)) == 2  # the office's email and the receipt, once


def test_the_confirmation_page_carries_the_written_complaint_to_print(client):
    response = post_form(client)
    assert response.status_code == 303
    sent = client.get(send_reviewed(client).headers["Location"]).get_data(as_text=True)
    assert "書面投訴材料" in sent and "投訴人簽署" in sent
    assert VALID_COMPLAINT["description"] in sent
    assert "更改" not in sent


def test_an_expired_draft_says_so_and_gives_back_the_typed_answers(app, client, smtp_server):
    post_form(client, files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    app.config["DRAFT_MAX_AGE"] = -1  # every draft is now past its hour
    response = client.get("/complaint/review")
    assert response.headers["Location"].endswith("/complaint?expired=1")
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "草稿已逾時" in form and "已附上的檔案已刪除" in form
    assert 'value="陳大文"' in form and VALID_COMPLAINT["description"] in form
    assert 'id="kept-files"' not in form
    send = send_with_a_fresh_token(client)
    assert send.headers["Location"].endswith("/complaint?expired=1")
    assert spooled(app) == []


def send_with_a_fresh_token(client):
    html = client.get("/complaint").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post("/complaint/send", data={"csrf_token": token})


def test_expired_drafts_lose_their_files_then_their_answers(app, client):
    import time

    from formserver import drafts

    post_form(client, files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    folder = Path(app.config["DRAFT_DIR"])
    assert drafts.purge_drafts(folder, 3600, 86400) == 0
    drafts.purge_drafts(folder, 3600, 86400, now=time.time() + 3601)
    assert list(folder.glob("*/evidence-*")) == [] and list(folder.glob("*/draft.json"))
    assert drafts.purge_drafts(folder, 3600, 86400, now=time.time() + 86401) == 1
    assert list(folder.iterdir()) == []


def test_review_without_a_draft_goes_back_to_the_form(client):
    response = client.get("/complaint/review")
    assert response.status_code == 302 and response.headers["Location"].endswith("/complaint")
