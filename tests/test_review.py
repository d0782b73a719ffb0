"""Review before sending: the draft, its "change" links, expiry, and the written complaint."""

from __future__ import annotations

import io
import json
import random
import re
import time
from pathlib import Path

from helpers import (
    VALID_COMPLAINT,
    jpeg,
    office_message,
    post_form,
    send_form_fields,
    send_reviewed,
    upload,
)
from PIL import Image

from formserver import delivery, drafts


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

    response = post_form(client, subject="改過的標題", keep_evidence="y",
                         page="/complaint?change=1")
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
    post_form(client, subject="第二次", page="/complaint?change=1")
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


# --- sessions: what the next person at the same browser, or a copied cookie, can see ---------

def test_a_planted_cookie_does_not_reveal_the_next_residents_complaint(app, smtp_server):
    """Someone makes a draft, keeps a copy of the cookie and plants it in a shared browser
    (session fixation). The next resident starts a new complaint there: a new session and a
    new draft, which the copy cannot reach."""
    attacker = app.test_client()
    post_form(attacker, name="李四", email="")
    planted = attacker.get_cookie("session").value
    resident = app.test_client()
    resident.set_cookie("session", planted)
    assert post_form(resident, name="陳大文", unit="第9座 3樓 A室").status_code == 303
    assert "第9座 3樓 A室" in resident.get("/complaint/review").get_data(as_text=True)
    assert resident.get_cookie("session").value != planted
    for path in ("/complaint/review", "/complaint?change=1"):
        seen = attacker.get(path).get_data(as_text=True)
        assert "陳大文" not in seen and "第9座 3樓 A室" not in seen, path


def test_the_confirmation_is_shown_once_and_not_to_the_next_person_at_the_browser(
        app, client, smtp_server):
    assert post_form(client, files=[upload(jpeg(), "a.jpg", "image/jpeg")]).status_code == 303
    sent = send_reviewed(client)
    first = client.get(sent.headers["Location"])
    assert first.status_code == 200
    assert VALID_COMPLAINT["description"] in first.get_data(as_text=True)
    # The resident walks away; the next person at the same browser, within the hour:
    for path in ("/complaint/sent", "/complaint/review", "/complaint?change=1"):
        seen = client.get(path).get_data(as_text=True)
        assert VALID_COMPLAINT["name"] not in seen and VALID_COMPLAINT["description"] not in seen
    assert client.get("/complaint/sent").headers["Location"].endswith("/complaint")
    # Nothing kept to print once clicks sent with the first have had their answer.
    folder = Path(app.config["DRAFT_DIR"])
    drafts.purge_drafts(folder, app.config["DRAFT_MAX_AGE"], app.config["DRAFT_KEEP_ANSWERS"],
                        now=time.time() + drafts.CLICKS_TOGETHER)
    assert list(folder.iterdir()) == []


def test_send_from_a_tab_whose_draft_changed_in_another_tab_is_refused(app, client,
                                                                      smtp_server):
    """Tab 1 reviews the draft; tab 2 changes it; tab 1's "send" must not send tab 2's
    version unseen: a clear page with a way back, and nothing sent."""
    post_form(client, subject="第一個標題", files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    first_tab = send_form_fields(client.get("/complaint/review").get_data(as_text=True))
    post_form(client, subject="第二個標題", page="/complaint?change=1")
    refused = client.post("/complaint/send", data=first_tab)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "沒有送出任何資料" in page and 'href="/complaint/review"' in page
    assert spooled(app) == []

    response = send_reviewed(client)  # from a fresh review: the version it shows
    assert response.headers["Location"].endswith("/complaint/sent")
    delivery.deliver_once(app.config)
    assert "第二個標題" in office_message(smtp_server)["Subject"]


def test_a_new_complaint_in_another_tab_never_replaces_the_one_under_review(
        app, client, smtp_server):
    post_form(client, subject="第一宗", files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    first_tab = send_form_fields(client.get("/complaint/review").get_data(as_text=True))
    post_form(client, subject="第二宗")  # a fresh /complaint form: a new complaint
    assert client.post("/complaint/send", data=first_tab).status_code == 409
    assert spooled(app) == []


# --- drafts at rest ----------------------------------------------------------------------------

def noisy_photo() -> bytes:
    """Random pixels: any run of its bytes is its own."""
    out = io.BytesIO()
    pixels = random.Random(7).randbytes(160 * 120 * 3)
    Image.frombytes("RGB", (160, 120), pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


def stored_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_draft_copied_off_the_server_cannot_be_read(app, client, smtp_server):
    from formserver import drafts

    photo = noisy_photo()
    answers = {"name": "陳大文", "unit": "第3座 12樓 B室", "phone": "9123 4567",
               "email": "chan.taiman@example.com", "description": "升降機停用了三天，十分危險。"}
    assert post_form(client, files=[upload(photo, "a.jpg", "image/jpeg")],
                     **answers).status_code == 303
    folder = Path(app.config["DRAFT_DIR"])
    stored = stored_bytes(folder)
    for value in answers.values():
        for form in (value.encode(), json.dumps(value).encode(), value.encode("utf-16-le")):
            assert form not in stored, value
    middle = len(photo) // 2
    for start in range(middle, middle + 4096, 512):  # any run of the photo's own bytes
        assert photo[start:start + 48] not in stored
    assert b"\xff\xd8\xff" not in stored  # no JPEG starts anywhere

    [draft_id] = [p.name for p in folder.iterdir()]
    max_age = app.config["DRAFT_MAX_AGE"]
    assert drafts.load_draft(folder, draft_id, drafts.new_key(), max_age) is None
    with client.session_transaction() as session:
        key = session["draft_key"]
    assert drafts.load_draft(folder, draft_id, key, max_age).answers["name"] == "陳大文"


def test_a_sent_draft_keeps_only_what_the_confirmation_prints_never_the_raw_answers(
        app, client, smtp_server):
    from formserver import drafts

    post_form(client, anonymize="y", description="請致電 6123 4567 聯絡我。",
              files=[upload(jpeg(), "a.jpg", "image/jpeg")])
    with client.session_transaction() as session:
        draft_id, key = session["draft"], session["draft_key"]
    send_reviewed(client)
    folder = Path(app.config["DRAFT_DIR"])
    draft = drafts.load_draft(folder, draft_id, key, app.config["DRAFT_MAX_AGE"])
    assert draft.answers == {} and draft.evidence == ()
    kept = json.dumps(draft.sent, ensure_ascii=False)
    for raw in ("陳大文", "6123 4567", "chan.taiman", "9123 4567"):
        assert raw not in kept, raw
    assert draft.sent["record"]["reference"] == draft.reference
    assert [p.name for p in (folder / draft_id).iterdir() if not p.name.startswith(".")] == [
        "draft.json"]


def test_the_purge_removes_a_draft_folder_without_a_valid_record(app, client):
    import os
    import time

    from formserver import drafts

    folder = Path(app.config["DRAFT_DIR"])
    post_form(client)
    orphan = folder / ("A" * 22)
    orphan.mkdir()
    (orphan / "evidence-1.jpg").write_bytes(jpeg())  # a write that failed half-way
    half_written = folder / ".new-0123456789abcdef"
    half_written.mkdir()
    (half_written / "evidence-ab-1").write_bytes(b"sealed bytes")
    assert drafts.purge_drafts(folder, 3600, 86400) == 0  # young: perhaps still being written
    an_hour_ago = time.time() - 3601
    for path in (orphan, half_written):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert drafts.purge_drafts(folder, 3600, 86400) == 2
    assert not orphan.exists() and not half_written.exists()
    assert len(list(folder.iterdir())) == 1  # the resident's draft stays
