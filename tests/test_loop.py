"""The whole loop against a real SMTP server: a de-identified complaint with an email, the
office's case link, a reply on the case page relayed to the resident in their receipt's
thread, the status page, the resolution, "not solved", and the 復查 that reopens the case."""

from __future__ import annotations

import re

from helpers import VALID_COMPLAINT
from loop_helpers import (
    act,
    case_path,
    confirmation,
    deliver,
    form_fields,
    local_path,
    look_up,
    text_of,
    to,
)

RESIDENT = VALID_COMPLAINT["email"]
OFFICE, COMMITTEE = "office@estate.test", "committee@estate.test"
REPLY = "陳先生您好：維修公司明早九時到場檢查升降機。\n如仍有問題，請再告訴我們。"
RESOLUTION = "已更換第3座兩部升降機的門鎖，並安排每週檢查。"


def raw(message) -> str:
    return message.as_string()


def test_a_de_identified_complaint_is_answered_through_the_case_and_reopened_by_a_review(
        app, client, smtp_server):
    reference, code = confirmation(client, anonymize="y")
    messages = deliver(app, smtp_server)
    [office] = to(messages, OFFICE)
    [receipt] = to(messages, RESIDENT)
    assert code in text_of(receipt)

    # The office's email carries the case link three ways, and nothing of the address.
    link = str(office["X-Complaint-Case-URL"]).strip()
    assert re.fullmatch(r"https://\S+/case\?token=[A-Za-z0-9_-]{32}", link), link
    assert link in text_of(office).splitlines()
    assert link.replace("&", "&amp;") in office.get_body(("html",)).get_content()
    assert office["Reply-To"] is None
    path = case_path(office)
    page = client.get(path)
    assert page.status_code == 200 and reference in page.get_data(as_text=True)

    # The office replies on the case page; the resident receives it under their receipt.
    response = act(client, path, "reply", REPLY, handled_by="陳主任")
    assert response.status_code == 303
    case_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已記錄：回覆" in case_page and "陳先生您好" in case_page
    [relay] = [m for m in to(deliver(app, smtp_server), RESIDENT) if m is not None
               and m["Message-ID"] != receipt["Message-ID"]]
    assert relay["From"] == app.config["MAIL_FROM"]
    assert relay["In-Reply-To"] == receipt["Message-ID"] == relay["References"]
    assert reference in relay["Subject"] and reference in text_of(relay)
    assert "維修公司明早九時到場檢查升降機。\n如仍有問題" in text_of(relay)
    assert OFFICE not in raw(relay) and relay["Reply-To"] is None

    # The resident sees the reply in full with their code.
    status = look_up(client, reference, code).get_data(as_text=True)
    assert "已回覆" in status and "維修公司明早九時到場檢查升降機。" in status

    # Resolved: one question to the resident, with two links.
    assert act(client, path, "resolve", RESOLUTION).status_code == 303
    [question] = [m for m in to(deliver(app, smtp_server), RESIDENT) if "問題是否已解決" in
                  m["Subject"]]
    assert question["In-Reply-To"] == receipt["Message-ID"]
    assert RESOLUTION in text_of(question)
    links = re.findall(r"https?://\S+/status/answer\?\S+", text_of(question))
    assert [link.rsplit("=", 1)[1] for link in links] == ["yes", "no"]

    # "Not solved": the 復查 follow-up, filled in, goes to the office and the committee.
    review = client.get(local_path(links[1]))
    assert review.status_code == 200
    fields = form_fields(review.get_data(as_text=True), "/follow-up")
    assert fields["reference"] == reference and fields["reason"] == "not_satisfied"
    assert fields["details"].startswith("處理結果未能解決問題")
    fields["details"] += "升降機今早又停了。"
    response = client.post("/follow-up", data=fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:600]
    [follow_up] = [m for m in to(deliver(app, smtp_server), OFFICE) if "跟進" in m["Subject"]]
    assert follow_up["Cc"] == COMMITTEE and follow_up["In-Reply-To"] == office["Message-ID"]
    assert follow_up["X-Complaint-Anonymized"] == "yes" and follow_up["Reply-To"] is None
    assert "升降機今早又停了" in text_of(follow_up)
    assert follow_up["X-Complaint-Case-URL"]

    status = look_up(client, reference, code).get_data(as_text=True)
    assert "已重開" in status and "投訴人表示問題未解決" in status
    reopened = client.get(case_path(follow_up)).get_data(as_text=True)
    assert "已重開" in reopened

    # Nothing the office or the committee received, nor any page they can open, shows the
    # resident's address.
    office_side = [raw(m) for m in smtp_server.handler.parsed() if RESIDENT not in str(m["To"])]
    office_side += [client.get(path).get_data(as_text=True), reopened, case_page]
    for text in office_side:
        assert RESIDENT not in text and "chan.taiman" not in text


def test_a_reply_that_cannot_reach_the_residents_mailbox_is_noted_on_the_case(
        app, client, smtp_server):
    reference, code = confirmation(client, anonymize="y")
    [office] = to(deliver(app, smtp_server), OFFICE)
    path = case_path(office)
    assert act(client, path, "reply", REPLY).status_code == 303
    smtp_server.handler.reply = "550 5.1.1 mailbox unavailable"  # the resident's mailbox is gone
    delivered = deliver(app, smtp_server)
    smtp_server.handler.reply = None
    assert not [m for m in to(delivered, RESIDENT) if "回覆" in m["Subject"]]

    note = "給投訴人的電郵未能送達（回覆仍可在進度查詢頁查看）"
    case_page = client.get(path).get_data(as_text=True)
    assert note in case_page and RESIDENT not in case_page
    status = look_up(client, reference, code).get_data(as_text=True)
    assert note in status and "維修公司明早九時到場檢查升降機。" in status
    # Delivered once the server takes mail again: nothing more is noted.
    assert deliver(app, smtp_server) and client.get(path).get_data(as_text=True).count(note) == 1
