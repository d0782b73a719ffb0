"""The resident's side: the access code on the confirmation page, the receipt and the printed
complaint; /status with it; follow-ups need it; a broken case store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import VALID_COMPLAINT, submit
from loop_helpers import (
    act,
    case_path,
    confirmation,
    csrf,
    deliver,
    follow_up,
    form_fields,
    look_up,
    text_of,
    to,
)

from formserver import access, cases
from formserver.vocabulary import ACCESS_CODE, normal_access_code

OFFICE, RESIDENT = "office@estate.test", VALID_COMPLAINT["email"]


def test_the_access_code_is_on_the_confirmation_the_receipt_and_the_printed_complaint(
        app, client, smtp_server):
    response = submit(client)
    page = client.get(response.headers["Location"]).get_data(as_text=True)  # shown once
    code = re.search(r'id="access-code">([^<]+)<', page).group(1)
    assert ACCESS_CODE.match(normal_access_code(code))
    written = page.split('class="written-complaint"', 1)[1]
    assert "查詢碼" in written and code in written
    [receipt] = to(deliver(app, smtp_server), RESIDENT)
    assert f"查詢碼：{code}" in text_of(receipt) and "/status" in text_of(receipt)
    with cases.store(Path(app.config["CASE_DB"])) as db:
        stored = "\n".join(str(v) for table in ("cases", "events", "links")
                           for row in db.execute(f"SELECT * FROM {table}") for v in row)
    assert normal_access_code(code) not in stored and code not in stored


def test_codes_are_random_short_and_unambiguous_to_read_aloud():
    from formserver.vocabulary import new_access_code

    codes = {new_access_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", c) for c in codes)
    assert not set("".join(codes)) & set("01ILO")


def test_the_status_page_shows_the_timeline_and_the_replies_in_full(app, client, smtp_server):
    reference, code = confirmation(client)
    [office] = to(deliver(app, smtp_server), OFFICE)
    act(client, case_path(office), "reply", "第一行。\n第二行：明天維修。", handled_by="李主任")
    for typed in (code, code.lower(), code.replace("-", " "), "".join(
            chr(ord(c) + 0xFEE0) if c != "-" else c for c in code)):  # full-width, as typed
        response = look_up(client, reference.lower(), typed)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, typed
        assert "已回覆" in page and "第一行。<br>第二行：明天維修。" in page and "李主任" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert RESIDENT not in page and VALID_COMPLAINT["name"] not in page


def test_a_wrong_reference_and_a_wrong_code_get_the_same_answer(app, client):
    reference, code = confirmation(client)
    other = reference[:-1] + ("2" if reference[-1] != "2" else "3")
    wrong_code = code[:-1] + ("2" if code[-1] != "2" else "3")
    answers = [look_up(client, ref, typed) for ref, typed in ((other, code),
                                                              (reference, wrong_code))]
    assert [a.status_code for a in answers] == [422, 422]
    bodies = [re.sub(r'value="[^"]*"', "", a.get_data(as_text=True)) for a in answers]
    assert bodies[0] == bodies[1] and access.NO_SUCH_CASE in bodies[0]


def test_a_status_lookup_storm_gets_429(app, client):
    app.config["STATUS_RATE_LIMIT"] = "5/hour"
    reference, code = confirmation(client)
    statuses = [look_up(client, reference, "ABCD-EFGH").status_code for _ in range(5)]
    last = look_up(client, reference, code)
    assert statuses == [422] * 5 and last.status_code == 429
    assert "嘗試次數太多" in last.get_data(as_text=True)


def test_a_follow_up_needs_the_access_code(app, client, smtp_server):
    reference, code = confirmation(client)
    deliver(app, smtp_server)
    before = len(smtp_server.handler.messages)
    for typed in ("", "ABCD-EFGH"):
        response = follow_up(client, reference, typed)
        assert response.status_code == 422
    assert access.NO_SUCH_CASE in response.get_data(as_text=True)
    assert len(deliver(app, smtp_server)) == before
    assert follow_up(client, reference, code).status_code == 303


@pytest.mark.parametrize("anonymize", [True, False])
def test_a_follow_up_inherits_the_complaints_de_identification(app, client, smtp_server,
                                                               anonymize):
    reference, code = confirmation(client, anonymize="y" if anonymize else None)
    details = "仍未修好，請致電 9876 5432 找我。"
    assert follow_up(client, reference, code, details=details).status_code == 303
    [later] = [m for m in to(deliver(app, smtp_server), OFFICE) if "跟進" in m["Subject"]]
    assert later["X-Complaint-Anonymized"] == ("yes" if anonymize else "no")
    assert ("9876 5432" in text_of(later)) is not anonymize
    assert later["Reply-To"] is None and later["X-Complaint-Case-URL"]


def test_without_an_email_the_question_is_on_the_status_page_and_solved_closes_the_case(
        app, client, smtp_server):
    reference, code = confirmation(client, email="")
    [office] = to(deliver(app, smtp_server), OFFICE)
    act(client, case_path(office), "resolve", "已修妥。")
    assert len(deliver(app, smtp_server)) == 1  # nothing to the resident: no address
    page = look_up(client, reference, code).get_data(as_text=True)
    assert "問題是否已解決？" in page
    fields = form_fields(page, "/status/answer")
    assert fields["answer"] == "yes"
    response = client.post("/status/answer", data=fields)
    assert response.status_code == 303
    closed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "個案已結束" in closed and "已結束" in closed
    again = client.post("/status/answer", data=fields)  # a replay: a clear page, no change
    assert again.status_code == 200 and "毋須回答" in again.get_data(as_text=True)
    assert "已結束" in look_up(client, reference, code).get_data(as_text=True)


def test_the_satisfaction_link_only_asks_until_the_resident_confirms(app, client, smtp_server):
    reference, _ = confirmation(client)
    [office] = to(deliver(app, smtp_server), OFFICE)
    act(client, case_path(office), "resolve", "已修妥。")
    [question] = [m for m in deliver(app, smtp_server) if "問題是否已解決" in m["Subject"]]
    yes = re.search(r"https?://\S+answer=yes", text_of(question)).group(0)
    page = client.get(yes.split("example.org", 1)[1])  # what a mail scanner's visit does
    assert page.status_code == 200 and "確認已解決" in page.get_data(as_text=True)
    with cases.store(Path(app.config["CASE_DB"])) as db:
        assert cases.load(db, reference).status == "resolved"
    client.post("/status/answer", data=form_fields(page.get_data(as_text=True), "/status/answer"))
    with cases.store(Path(app.config["CASE_DB"])) as db:
        assert cases.load(db, reference).status == "closed"


@pytest.mark.parametrize("token", ["", "IjIwMjYxMjAyLTRZVC03SlUi.aw9G1w.forged", "x" * 500])
def test_a_forged_or_missing_satisfaction_link_gets_404(client, token):
    assert client.get(f"/status/answer?token={token}&answer=yes").status_code == 404
    assert client.get(f"/status/follow-up?token={token}").status_code == 404


def test_a_broken_case_store_gives_503_while_the_complaint_is_still_spooled_and_delivered(
        app, client, smtp_server, caplog):
    Path(app.config["CASE_DB"]).write_bytes(b"this is not a database" * 100)
    reference, code = confirmation(client, anonymize="y")
    [office] = to(deliver(app, smtp_server), OFFICE)
    assert reference in office["Subject"]
    assert any("could not open the case" in r.getMessage() for r in caplog.records)
    assert not any(VALID_COMPLAINT["email"] in r.getMessage() for r in caplog.records)
    responses = [look_up(client, reference, code), client.get(case_path(office)),
                 follow_up(client, reference, code)]
    assert [r.status_code for r in responses] == [503, 503, 503]
    assert "暫時" in responses[0].get_data(as_text=True)
    page = client.get("/status").get_data(as_text=True)  # the form itself still shows
    assert csrf(page)
