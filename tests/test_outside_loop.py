"""The loop attacked from outside: clerks who press at the same moment, a resident who types
the reference as a phone's keyboard gives it, and what a careless or hostile caller sends to
the case and status pages. Each case here was written against the running app, not its code."""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import (
    VALID_COMPLAINT,
    Browser,
    gunicorn_service,
    hidden_inputs,
    make_app,
    send_form_fields,
    together,
)
from loop_helpers import (
    act,
    ask,
    case_path,
    confirmation,
    csrf,
    deliver,
    deliver_at,
    follow_up,
    look_up,
    step_of,
    to,
    token_of,
)

from formserver import access, cases, handling
from formserver.cases import end_of
from formserver.reminders import escalation_day, run_timers
from formserver.workdays import local_now

OFFICE, RESIDENT = "office@estate.test", VALID_COMPLAINT["email"]


@pytest.fixture
def office(app, client, smtp_server):
    """(the case page's path, the reference, the access code): a delivered complaint."""
    reference, code = confirmation(client)
    [message] = to(deliver(app, smtp_server), OFFICE)
    return case_path(message), reference, code


def case_of(app, reference: str) -> cases.Case:
    with cases.store(Path(app.config["CASE_DB"])) as db:
        return cases.load(db, reference)


def confirm(client, path: str, page: str):
    """Press the confirmation page's button."""
    return client.post("/case/confirm", data={"csrf_token": csrf(page), "token": token_of(path),
                                              "step": step_of(page)})


def relays(app, smtp_server) -> list[str]:
    """The office's replies relayed to the resident so far, by their text."""
    return [m.get_body(("plain",)).get_content() for m in to(deliver(app, smtp_server), RESIDENT)
            if str(m["Subject"]).startswith("回覆")]


# --- a case that changed while the clerk was confirming ------------------------------------------

def test_a_reply_confirmed_after_the_resident_followed_up_is_asked_again_not_lost(
        app, client, office, smtp_server):
    path, reference, code = office
    reply = "陳先生您好：維修公司明早九時到場檢查。"
    page = ask(client, path, "reply", reply).get_data(as_text=True)
    assert follow_up(client, reference, code).status_code == 303  # meanwhile, the resident

    again = confirm(client, path, page)
    assert again.status_code == 409
    shown = again.get_data(as_text=True)
    assert reply in shown and "投訴人提交跟進" in shown  # the clerk's words and what changed
    assert not case_of(app, reference).has("replied")

    assert confirm(client, path, shown).status_code == 303
    assert [e.message for e in case_of(app, reference).events if e.kind == "replied"] == [reply]
    assert [text for text in relays(app, smtp_server) if reply in text] != []


# --- clerks pressing at the same moment, under gunicorn with several workers ---------------------

@pytest.fixture
def served(tmp_path, smtp_server, built_site):
    """gunicorn with four workers, and an app on the same instance folder that delivers."""
    service = gunicorn_service(tmp_path, smtp_server, built_site, 4,
                               SUBMISSION_RATE_LIMIT="1000/hour").start()
    deliverer = make_app(tmp_path, smtp_server, built_site, SECRET_KEY="process-test-secret")
    yield service, deliverer
    service.stop()


def complaint_through(port: int, app, smtp_server) -> tuple[str, str]:
    """A complaint sent through the server: its reference and the office's case path."""
    resident = Browser(port)
    form = resident.request("GET", "/complaint")[2]
    assert resident.post("/complaint", {**VALID_COMPLAINT, **hidden_inputs(form)})[0] == 303
    fields = send_form_fields(resident.request("GET", "/complaint/review")[2])
    assert resident.post("/complaint/send", fields)[0] == 303
    sent = resident.request("GET", "/complaint/sent")[2]
    reference = re.search(r'id="reference">([^<]+)<', sent).group(1)
    [message] = [m for m in to(deliver(app, smtp_server), OFFICE) if reference in m["Subject"]]
    return reference, case_path(message)


def at_confirmation(port: int, path: str, action: str, message: str = "") -> tuple:
    """A clerk's browser at the confirmation page of an action: (browser, its fields)."""
    clerk = Browser(port)
    status, _, page = clerk.request("GET", path)
    assert status == 200, page[:300]
    status, _, page = clerk.post("/case", {"csrf_token": csrf(page), "token": token_of(path),
                                           "action": action, "message": message})
    assert status == 200, page[:600]
    return clerk, {"csrf_token": csrf(page), "token": token_of(path), "step": step_of(page)}


def press_together(clerks: list[tuple]) -> list[tuple[int, str]]:
    """Every clerk presses "confirm" at the same moment: (status, page) of each."""
    def press(number, barrier):
        clerk, fields = clerks[number]
        status, _, page = clerk.post("/case/confirm", fields, hold=barrier)
        return status, page
    return together(len(clerks), press)


@pytest.mark.slow
def test_clerks_pressing_at_once_record_one_acknowledgement_and_keep_every_reply(
        served, smtp_server):
    service, app = served
    reference, path = complaint_through(service.port, app, smtp_server)

    acknowledged = press_together([at_confirmation(service.port, path, "acknowledge")
                                   for _ in range(4)])
    assert Counter(status for status, _ in acknowledged) == Counter({303: 1, 409: 3}), (
        acknowledged, service.output())
    assert [e.kind for e in case_of(app, reference).events].count("acknowledged") == 1

    replies = [f"第{number}位同事的回覆：已安排技工。" for number in range(3)]
    clerks = [at_confirmation(service.port, path, "reply", reply) for reply in replies]
    results = press_together(clerks)
    assert Counter(status for status, _ in results) == Counter({303: 1, 409: 2}), results
    for (clerk, fields), (status, page) in zip(clerks, results, strict=True):
        if status == 409:  # asked again, with the words kept: confirmed, it is recorded
            assert replies[clerks.index((clerk, fields))] in page
            again = {**fields, "csrf_token": csrf(page), "step": step_of(page)}
            status, _, page = clerk.post("/case/confirm", again)
            if status == 409:  # the other clerk's second press came first
                again = {**fields, "csrf_token": csrf(page), "step": step_of(page)}
                status = clerk.post("/case/confirm", again)[0]
            assert status == 303, page[:600]
    recorded = [e.message for e in case_of(app, reference).events if e.kind == "replied"]
    assert sorted(recorded) == sorted(replies)
    relayed = relays(app, smtp_server)
    assert sorted(reply for reply in replies for text in relayed if reply in text) == sorted(
        replies)
    assert "Traceback" not in service.output(last=10**6)


# --- what a resident types -----------------------------------------------------------------------

def full_width(text: str) -> str:
    """As a phone's Chinese keyboard in full-width mode types it: ２０２６…－Ｋ７Ｑ."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


def typed_as_people_do(reference: str) -> list[str]:
    return [full_width(reference), reference.replace("-", " "), reference.replace("-", ""),
            f" {reference.lower()} ", full_width(reference.replace("-", " "))]


def test_the_reference_is_found_however_a_phone_keyboard_typed_it(app, client, office):
    path, reference, code = office
    for typed in typed_as_people_do(reference):
        response = look_up(client, typed, full_width(code))
        assert response.status_code == 200, (typed, response.get_data(as_text=True)[-1500:])
        assert f"投訴 {reference} 的處理進度" in response.get_data(as_text=True)
    wrong = look_up(client, full_width(reference), code[:-1] + ("2" if code[-1] != "2" else "3"))
    assert wrong.status_code == 422 and "查詢碼不正確" in wrong.get_data(as_text=True)


def test_a_follow_up_is_accepted_with_the_reference_typed_in_full_width(
        app, client, office, smtp_server):
    path, reference, code = office
    response = follow_up(client, full_width(reference), code)
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    assert case_of(app, reference).status == "reopened"
    [message] = [m for m in to(deliver(app, smtp_server), OFFICE) if "跟進" in m["Subject"]]
    assert reference in message["Subject"]


# --- a broken case store -------------------------------------------------------------------------

def test_a_complaint_sent_while_the_case_store_was_broken_gets_its_case_once_it_is_mended(
        app, client, smtp_server):
    store = Path(app.config["CASE_DB"])
    store.write_bytes(b"not a database " * 200)
    reference, code = confirmation(client, anonymize="y")
    [office] = to(deliver(app, smtp_server), OFFICE)  # delivered while the store is broken
    assert look_up(client, reference, code).status_code == 503
    assert client.get(case_path(office)).status_code == 503

    store.unlink()  # the maintainer moves the broken file away
    deliver(app, smtp_server)
    status = look_up(client, reference, code)
    assert status.status_code == 200, status.get_data(as_text=True)[-800:]
    assert f"投訴 {reference} 的處理進度" in status.get_data(as_text=True)
    page = client.get(case_path(office))  # the link in the email the office already has
    assert page.status_code == 200 and reference in page.get_data(as_text=True)
    case = case_of(app, reference)
    assert case.anonymized and case.has_email and case.status == "submitted"
    assert follow_up(client, reference, code).status_code == 303
    deliver(app, smtp_server)  # a second round opens nothing twice
    assert [e.kind for e in case_of(app, reference).events].count("submitted") == 1


# --- the resident's links ------------------------------------------------------------------------

def old_grant(app, reference: str, days: int) -> str:
    """The token a satisfaction email sent `days` ago carries."""
    return access.grant(reference, app.config["SECRET_KEY"],
                        issued_at=local_now("HK") - timedelta(days=days))


@pytest.mark.parametrize("prefix", ["", "/zh-hans"])
def test_an_expired_link_in_the_residents_email_says_what_to_do_in_the_pages_script(
        app, client, office, prefix):
    path, reference, _ = office
    late = old_grant(app, reference, app.config["CASE_LINK_DAYS"] + 1)
    assert client.get(f"/status/answer?token={old_grant(app, reference, 1)}&answer=no"
                      ).status_code == 200
    for url in (f"{prefix}/status/answer?token={late}&answer=yes",
                f"{prefix}/status/follow-up?token={late}",
                f"{prefix}/status/answer?token=forged&answer=no"):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        said = "查詢碼" if not prefix else "查询码"
        assert said in page and f'href="{prefix}/status"' in page, page[-1500:]
        assert reference not in page


# --- the timers, with the real deliverer under libfaketime ---------------------------------------

@pytest.mark.slow
def test_two_deliverers_at_once_days_later_send_one_reminder_and_one_escalation(
        app, client, smtp_server, built_site, office):
    _, reference, _ = office
    case = case_of(app, reference)
    past_escalation = end_of(escalation_day(case, app.config),
                             case.submitted_at.tzinfo) + timedelta(hours=10)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: deliver_at(past_escalation, app, smtp_server,
                                                  built_site), range(2)))
    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-2000:] for run in runs]
    subjects = Counter(str(m["Subject"]) for m in smtp_server.handler.parsed()
                       if reference in str(m["Subject"]))
    assert sum(n for s, n in subjects.items() if "提醒" in s) == 1, subjects
    assert sum(n for s, n in subjects.items() if "通知業主委員會" in s) == 1, subjects
    assert [e.kind for e in case_of(app, reference).events].count("reminder") == 1


@pytest.mark.slow
def test_a_first_action_while_the_deliverer_reminds_leaves_at_most_one_reminder_before_it(
        app, client, smtp_server, built_site, office):
    path, reference, _ = office
    case = case_of(app, reference)
    late = end_of(case.due, case.submitted_at.tzinfo) + timedelta(hours=2)
    with ThreadPoolExecutor(1) as pool:
        run = pool.submit(deliver_at, late, app, smtp_server, built_site)
        assert act(client, path, "acknowledge", handled_by="陳主任").status_code == 303
        assert run.result().returncode == 0
    acted = case_of(app, reference)
    acknowledged = acted.first(("acknowledged",))
    reminded = [e for e in acted.events if e.kind == "reminder"]
    assert len(reminded) <= 1 and all(e.id < acknowledged.id for e in reminded)
    assert deliver_at(late + timedelta(days=5), app, smtp_server, built_site).returncode == 0
    assert [e.kind for e in case_of(app, reference).events].count("reminder") == len(reminded)
    assert not case_of(app, reference).has("escalation")


# --- statistics ----------------------------------------------------------------------------------

def test_stats_with_no_data_say_so_and_with_a_broken_database_say_that_in_one_line(
        app, runner):
    empty = runner.invoke(args=["stats"])
    assert empty.exit_code == 0 and "（尚未有統計）" in empty.output
    assert "（尚未有個案）" in empty.output
    Path(app.config["STATS_DB"]).write_bytes(b"not a database " * 200)
    broken = runner.invoke(args=["stats"])
    assert broken.exit_code == 1 and isinstance(broken.exception, SystemExit), broken.exception
    assert "statistics" in broken.output and "Traceback" not in broken.output


def test_stats_count_a_reopened_case_once_and_name_nobody(app, client, runner, office,
                                                          smtp_server):
    path, reference, code = office
    assert act(client, path, "reply", "已安排維修。").status_code == 303
    assert act(client, path, "resolve", "已修妥。").status_code == 303
    assert follow_up(client, reference, code, reason="not_satisfied").status_code == 303
    assert act(client, path, "resolve", "再次修妥。").status_code == 303
    result = runner.invoke(args=["stats"])
    assert result.exit_code == 0, result.output
    [row] = [line.split("\t") for line in result.output.splitlines() if "設備設施" in line
             and line.count("\t") == 8]
    assert row[2] == "1" and row[3] == "100%" and row[6] == "100%" and row[8] == "1", row
    for personal in (reference, code, "陳大文", "9123", "chan.taiman", "已修妥"):
        assert personal not in result.output


# --- the office login ----------------------------------------------------------------------------

def test_guessing_the_office_password_is_stopped_after_a_few_wrong_tries(app, client, office):
    path, reference, _ = office
    app.config["OFFICE_PASSWORD"] = "翠景2026"
    page = client.get(path).get_data(as_text=True)

    def log_in(password: str):
        return client.post("/case/login", data={"csrf_token": csrf(page), "token": "any",
                                                "password": password})

    assert log_in("翠景2026").status_code == 303  # a clerk's right password does not count
    tries = [log_in(f"guess{number}").status_code for number in range(12)]
    assert tries.count(403) <= 10 and tries[-1] == 429, tries
    stopped = log_in("翠景2026")
    assert stopped.status_code == 429 and "嘗試次數太多" in stopped.get_data(as_text=True)
    assert reference not in stopped.get_data(as_text=True)


# --- guessing an access code ---------------------------------------------------------------------

def test_guessing_access_codes_through_the_follow_up_form_is_limited_like_lookups(
        app, client, office, smtp_server):
    path, reference, code = office
    app.config["STATUS_RATE_LIMIT"] = "5/hour"
    guesses = [follow_up(client, reference, f"AAAA-AAA{letter}").status_code
               for letter in "23456789"]
    assert guesses[:5] == [422] * 5 and set(guesses[5:]) == {429}, guesses
    assert not case_of(app, reference).has("follow_up")


# --- retention -----------------------------------------------------------------------------------

def test_a_case_still_being_answered_is_kept_while_one_left_alone_is_purged(app, client, office):
    path, answered, _ = office
    left_alone, _ = confirmation(client)
    start = case_of(app, answered).submitted_at
    keep = timedelta(days=app.config["CASE_KEEP_DAYS"])
    handling.act(case_of(app, answered), "reply", "仍在跟進。", "", start + keep - timedelta(
        days=1), app.config)
    purged = run_timers(app.config, start + keep + timedelta(days=1)).purged
    assert purged == [left_alone]
    assert case_of(app, answered) is not None and case_of(app, left_alone) is None
    assert run_timers(app.config, start + 2 * keep).purged == [answered]
