"""The office's case page: the link is the credential; every action is confirmed; bad input
(a wrong or expired link, an empty reply, a replayed or cross-site post, a reply on a closed
case) gets a clear page and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from loop_helpers import (
    act,
    ask,
    case_path,
    confirmation,
    csrf,
    deliver,
    step_of,
    text_of,
    to,
    token_of,
)

from formserver import access, cases, handling
from formserver.workdays import local_now

OFFICE, RESIDENT = "office@estate.test", "chan.taiman@example.com"


@pytest.fixture
def office(app, client, smtp_server):
    """(the case page's path, the reference): a complaint delivered to the office."""
    reference, _ = confirmation(client)
    [message] = to(deliver(app, smtp_server), OFFICE)
    return case_path(message), reference


def case_of(app, reference: str) -> cases.Case:
    with cases.store(Path(app.config["CASE_DB"])) as db:
        return cases.load(db, reference)


def test_a_wrong_an_expired_and_a_revoked_link_get_the_same_404(app, client, office, runner):
    path, reference = office
    assert client.get(path).status_code == 200
    with cases.store(Path(app.config["CASE_DB"])) as db:
        expired = access.issue_link(db, reference, app.config,
                                    local_now("HK") - timedelta(days=31))
    wrong = client.get("/case?token=" + "A" * 32)
    late = client.get(f"/case?token={expired.token}")
    missing = client.get("/case")
    assert wrong.status_code == late.status_code == missing.status_code == 404
    assert wrong.get_data() == late.get_data() == missing.get_data()
    assert reference not in late.get_data(as_text=True)

    result = runner.invoke(args=["cases", "revoke", reference])
    assert "revoked" in result.output
    revoked = client.get(path)
    assert revoked.status_code == 404 and revoked.get_data() == wrong.get_data()
    fresh = runner.invoke(args=["cases", "link", reference]).output.splitlines()[0]
    assert client.get(fresh.split("example.org", 1)[1]).status_code == 200


def test_case_pages_are_not_indexed_cached_or_named_in_a_referer(client, office):
    path, _ = office
    for response in (client.get(path), client.get("/case?token=wrong")):
        assert response.headers["X-Robots-Tag"].startswith("noindex")
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in client.get(path).get_data(
        as_text=True)


def test_an_action_is_recorded_only_after_it_is_confirmed(app, client, office):
    path, reference = office
    confirm = ask(client, path, "acknowledge", handled_by="陳主任")
    assert confirm.status_code == 200 and "尚未記錄" in confirm.get_data(as_text=True)
    assert case_of(app, reference).status == "submitted"
    page = confirm.get_data(as_text=True)
    client.post("/case/confirm", data={"csrf_token": csrf(page), "token": token_of(path),
                                       "step": step_of(page)})
    case = case_of(app, reference)
    assert case.status == "acknowledged" and case.events[-1].handled_by == "陳主任"
    assert "已受理" in client.get(path).get_data(as_text=True)


def test_an_empty_reply_or_resolution_is_refused_and_changes_nothing(app, client, office):
    path, reference = office
    for action, message in (("reply", "請寫下給投訴人的回覆"), ("resolve", "請寫下處理結果")):
        for empty in ("", "  <b></b> \u200b"):
            response = ask(client, path, action, message=empty)
            assert response.status_code == 422
            assert message in response.get_data(as_text=True)
    response = ask(client, path, "delete")
    assert response.status_code == 422 and "請從列出的選項中選擇一項" in response.get_data(
        as_text=True)
    assert case_of(app, reference).version == 0


def test_a_replayed_confirmation_changes_nothing_and_sends_nothing_twice(app, client, office,
                                                                         smtp_server):
    path, reference = office
    confirm = ask(client, path, "reply", "已安排維修。").get_data(as_text=True)
    data = {"csrf_token": csrf(confirm), "token": token_of(path), "step": step_of(confirm)}
    assert client.post("/case/confirm", data=data).status_code == 303
    again = client.post("/case/confirm", data=data)
    assert again.status_code == 409 and "沒有作出任何更改" in again.get_data(as_text=True)
    assert [e.kind for e in case_of(app, reference).events].count("replied") == 1
    relays = [m for m in to(deliver(app, smtp_server), RESIDENT) if "回覆" in m["Subject"]]
    assert len(relays) == 1


def test_a_confirmation_for_another_case_or_tampered_with_is_refused(app, client, office,
                                                                   smtp_server):
    path, reference = office
    other_reference, _ = confirmation(client)
    [other] = [m for m in to(deliver(app, smtp_server), OFFICE)
               if other_reference in m["Subject"]]
    confirm = ask(client, case_path(other), "resolve", "已解決。").get_data(as_text=True)
    data = {"csrf_token": csrf(confirm), "token": token_of(path), "step": step_of(confirm)}
    assert client.post("/case/confirm", data=data).status_code == 409
    data["step"] = step_of(confirm)[:-3] + "abc"
    assert client.post("/case/confirm", data=data).status_code == 400
    assert case_of(app, reference).version == case_of(app, other_reference).version == 0


def test_a_cross_site_post_changes_nothing(app, client, office):
    path, reference = office
    confirm = ask(client, path, "resolve", "已解決。").get_data(as_text=True)
    stranger = app.test_client()  # another browser: no session, so no CSRF token of its own
    for data in ({"token": token_of(path), "step": step_of(confirm)},
                 {"token": token_of(path), "step": step_of(confirm), "csrf_token": csrf(confirm)}):
        response = stranger.post("/case/confirm", data=data)
        assert response.status_code == 400
        assert "沒有作出任何更改" in response.get_data(as_text=True)
    response = client.post("/case", data={"token": token_of(path), "action": "resolve",
                                          "message": "x"})
    assert response.status_code == 400
    assert case_of(app, reference).status == "submitted"


@pytest.mark.parametrize("answer", ["resolved", "closed"])
def test_a_reply_on_a_resolved_or_closed_case_is_refused(app, client, office, answer):
    path, reference = office
    left_open = client.get(path).get_data(as_text=True)  # a page from before, still open
    assert act(client, path, "resolve", "已修妥。").status_code == 303
    if answer == "closed":
        handling.confirm_solved(case_of(app, reference), local_now("HK"), app.config)
    version = case_of(app, reference).version
    response = client.post("/case", data={"csrf_token": csrf(left_open), "token": token_of(path),
                                          "action": "reply", "message": "補充一句。"})
    assert response.status_code == 409 and "不能再作這項操作" in response.get_data(as_text=True)
    assert case_of(app, reference).version == version
    assert 'name="action"' not in client.get(path).get_data(as_text=True)


def test_acknowledging_twice_is_refused(client, office):
    path, _ = office
    assert act(client, path, "acknowledge").status_code == 303
    assert ask(client, path, "acknowledge").status_code == 409


def test_replied_directly_stops_the_clock_and_sends_nothing(app, client, office, smtp_server):
    path, reference = office
    before = len(smtp_server.handler.messages)
    assert act(client, path, "replied_directly", "已致電投訴人。").status_code == 303
    assert len(deliver(app, smtp_server)) == before
    case = case_of(app, reference)
    assert case.status == "replied" and case.answered.kind == "replied_directly"


def test_a_reply_with_markup_reaches_the_resident_as_plain_text(app, client, office,
                                                               smtp_server):
    path, _ = office
    act(client, path, "reply", '<script>alert(1)</script>已<b>修妥</b>\u202e。')
    page = client.get(path).get_data(as_text=True)
    assert "<script>alert" not in page and "<b>" not in page
    [relay] = [m for m in to(deliver(app, smtp_server), RESIDENT) if "回覆" in m["Subject"]]
    text = text_of(relay)
    assert "已修妥。" in text and "<" not in text and "\u202e" not in text


def test_the_office_password_guards_every_case_page(app, client, office):
    path, reference = office
    app.config["OFFICE_PASSWORD"] = "correct horse"
    login = client.get(path)
    assert login.status_code == 200 and "管理處密碼" in login.get_data(as_text=True)
    assert reference not in login.get_data(as_text=True)
    assert client.get("/case?token=wrong").get_data() == login.get_data().replace(
        token_of(path).encode(), b"wrong")
    page = login.get_data(as_text=True)
    refused = client.post("/case/login", data={"csrf_token": csrf(page), "token": token_of(path),
                                               "password": "wrong horse"})
    assert refused.status_code == 403 and "密碼不正確" in refused.get_data(as_text=True)
    assert client.post("/case", data={"csrf_token": csrf(page), "token": token_of(path),
                                      "action": "acknowledge"}).status_code == 403
    assert case_of(app, reference).version == 0
    response = client.post("/case/login", data={"csrf_token": csrf(page),
                                                "token": token_of(path),
                                                "password": "correct horse"})
    assert response.status_code == 303
    assert reference in client.get(path).get_data(as_text=True)
    app.config["OFFICE_PASSWORD"] = "a new one"  # a changed password logs everyone out
    assert reference not in client.get(path).get_data(as_text=True)


def test_the_office_logs_out_of_a_shared_computer(app, client, office):
    path, reference = office
    app.config["OFFICE_PASSWORD"] = "correct horse"
    login = client.get(path).get_data(as_text=True)
    client.post("/case/login", data={"csrf_token": csrf(login), "token": token_of(path),
                                     "password": "correct horse"})
    page = client.get(path).get_data(as_text=True)
    assert reference in page and "登出管理處帳戶" in page
    assert client.post("/case/logout", data={"token": token_of(path)}).status_code == 400  # CSRF
    response = client.post("/case/logout", data={"csrf_token": csrf(page),
                                                  "token": token_of(path)})
    assert response.status_code == 303
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reference not in again and "管理處密碼" in again


def test_a_storm_of_case_page_requests_gets_a_429_page(app, client, office):
    app.config["CASE_RATE_LIMIT"] = "5/hour"
    path, _ = office
    statuses = [client.get(path).status_code for _ in range(5)]
    statuses += [client.get("/case?token=guess").status_code]
    assert statuses == [200] * 5 + [429]
    assert "嘗試次數太多" in client.get(path).get_data(as_text=True)


def test_the_case_page_shows_the_due_dates_and_what_reaches_the_resident(client, office):
    path, _ = office
    page = client.get(path).get_data(as_text=True)
    for words in ("首次回覆限期", "仍未處理會通知業主委員會", "時間線", "投訴已送達物業管理處",
                  "投訴人留有電郵", 'name="action"', 'name="message"', 'name="handled_by"'):
        assert words in page, words
    assert RESIDENT not in page
