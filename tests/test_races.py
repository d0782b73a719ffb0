"""Races, for real: gunicorn (deploy/gunicorn.conf.py) with several workers, and clients that
press at the same moment (a barrier releases them together).

Ten clicks on "send" spool one complaint, once; twelve follow-ups at once get exactly the
limit; nobody gets a 500."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from helpers import (
    VALID_COMPLAINT,
    Browser,
    gunicorn_service,
    hidden_inputs,
    send_form_fields,
    together,
)

pytestmark = pytest.mark.slow

REFERENCE = re.compile(r'id="reference"[^>]*>\s*([^<\s]+)\s*<')


@pytest.fixture
def server(tmp_path, smtp_server, built_site):
    """gunicorn with six workers; nothing is delivered (the spool shows what was sent)."""
    service = gunicorn_service(tmp_path, smtp_server, built_site, 6,
                               SUBMISSION_RATE_LIMIT="100000/hour", FOLLOW_UPS_PER_DAY=2,
                               FOLLOW_UPS_TOTAL=5).start()
    yield service
    service.stop()


def spooled(tmp_path: Path) -> list[str]:
    return sorted(p.stem for p in (tmp_path / "spool" / "new").glob("*.eml"))


def reviewed(port: int) -> tuple[Browser, dict]:
    """A resident at the review page: their browser and the send form's fields."""
    browser = Browser(port)
    status, _, form = browser.request("GET", "/complaint")
    assert status == 200
    status, headers, _ = browser.post("/complaint", {**VALID_COMPLAINT, **hidden_inputs(form)})
    assert status == 303 and headers["Location"].endswith("/complaint/review"), status
    status, _, review = browser.request("GET", "/complaint/review")
    assert status == 200
    return browser, send_form_fields(review)


def test_ten_clicks_on_send_at_once_spool_one_complaint_and_all_see_the_confirmation(
        server, tmp_path):
    browser, fields = reviewed(server.port)

    def click(_, barrier):
        tab = Browser(server.port, browser.cookies)  # the same session, as each click sends
        status, headers, _ = tab.post("/complaint/send", fields, hold=barrier)
        if status != 303:
            return status, ""
        status, _, page = tab.request("GET", headers["Location"])
        shown = REFERENCE.search(page)
        return status, shown.group(1) if shown else ""

    results = together(10, click)
    assert Counter(status for status, _ in results) == Counter({200: 10}), (
        results, server.output())
    shown = {shown for _, shown in results}
    assert len(shown) == 1, (results, server.output())
    [reference] = shown
    assert spooled(tmp_path) == [reference, f"{reference}.ack"]
    # Spooling the same reference twice would leave the same two files: count the spools.
    log = server.output(last=10**7)
    assert log.count(f"accepted {reference} ") == 1, log[-3000:]


def test_twelve_follow_ups_at_once_get_exactly_the_days_limit(server, tmp_path):
    browser, fields = reviewed(server.port)
    assert browser.post("/complaint/send", fields)[0] == 303
    confirmation = browser.request("GET", "/complaint/sent")[2]
    reference = REFERENCE.search(confirmation).group(1)
    code = re.search(r'id="access-code">([^<]+)<', confirmation).group(1)
    residents = []
    for _ in range(12):
        resident = Browser(server.port)
        status, _, page = resident.request("GET", f"/follow-up?reference={reference}")
        assert status == 200
        residents.append((resident, hidden_inputs(page)))

    def follow_up(number, barrier):
        resident, hidden = residents[number]
        return resident.post("/follow-up", {"reference": reference, "access_code": code,
                                            "reason": "no_reply",
                                            "details": f"第{number}次：仍未有回覆。",
                                            **hidden}, hold=barrier)[0]

    statuses = Counter(together(12, follow_up))
    assert statuses == Counter({303: 2, 422: 10}), (statuses, server.output())
    assert len([name for name in spooled(tmp_path) if ".follow-up-" in name]) == 2
