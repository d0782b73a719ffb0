"""The whole process: routing, staging, follow-ups in the same thread, office reminders, stats."""

from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest
from helpers import VALID_COMPLAINT, hidden_fields, office_message, submit

from formserver import create_app, delivery
from formserver.config import ConfigError


def sent_reference(client, response) -> str:
    """The reference on the confirmation page, which is shown once; its access code is kept
    on the client for the follow-ups."""
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    client.access_code = re.search(r'id="access-code">([^<]+)<', page).group(1)
    return re.search(r'id="reference">([^<]+)<', page).group(1)


def follow_up(client, **changes):
    """A follow-up with the access code of the complaint this client sent last."""
    data = {"reason": "no_reply", "details": "兩個工作日過去仍未有回覆。",
            "access_code": getattr(client, "access_code", ""),
            **hidden_fields(client, "/follow-up"), **changes}
    return client.post("/follow-up", data=data)


@pytest.fixture
def routed_app(app):
    app.config["ROUTES"] = {"office": {"fees": ("accounts@estate.test", "manager@estate.test")}}
    return app


def test_the_routing_table_sends_a_category_to_its_own_addresses(routed_app, client,
                                                                 smtp_server):
    submit(client, category="fees", email="")
    submit(client, category="service", email="")
    delivery.deliver_once(routed_app.config)
    recipients = sorted(tuple(m.rcpt_tos) for m in smtp_server.handler.messages)
    assert recipients == [("accounts@estate.test", "manager@estate.test"),
                          ("office@estate.test",)]


def test_staging_sends_everything_to_one_address_and_names_the_intended_ones(app, client,
                                                                            smtp_server):
    app.config["STAGING_EMAIL"] = "tester@estate.test"
    submit(client, follow_up_ref="20261120-ABC-XYZ")
    delivery.deliver_once(app.config)
    assert {tuple(m.rcpt_tos) for m in smtp_server.handler.messages} == {("tester@estate.test",)}
    office = next(m for m in smtp_server.handler.parsed() if "X-Complaint-Kind" in m)
    assert office["Cc"] is None
    body = office.get_body(("plain",)).get_content()
    intended = "office@estate.test（副本：committee@estate.test）"
    assert f"【測試環境】這封郵件原本會寄給：{intended}" in body


@pytest.mark.parametrize(
    ("setting", "key_in_message"),
    [
        ({"ROUTES": {"office": {"bribes": ["a@estate.test"]}}}, "ROUTES['office']['bribes']"),
        ({"ROUTES": {"office": {"fees": ["not-an-address"]}}}, "ROUTES['office']['fees']"),
        ({"ROUTES": {"mayor": {"fees": ["a@estate.test"]}}}, "ROUTES['mayor']"),
        ({"ROUTES": ["a@estate.test"]}, "ROUTES"),
        ({"OFFICE_EMAIL": "office@estate.test, boss@estate.test"}, "OFFICE_EMAIL"),
        ({"STAGING_EMAIL": "tester"}, "STAGING_EMAIL"),
        ({"SMTP_SECURITY": "tls"}, "SMTP_SECURITY"),
        ({"REGION": "SG"}, "REGION"),
        ({"MAX_FILES": "many"}, "MAX_FILES"),
        ({"RETRY_DELAYS": "soon"}, "RETRY_DELAYS"),
        ({"SECRET_KEY": None, "SMTP_HOST": "mail.estate.test"}, "SECRET_KEY"),
    ],
)
def test_a_configuration_error_stops_the_app_and_names_the_key(tmp_path, setting,
                                                               key_in_message):
    config = {"TESTING": True, "SECRET_KEY": "x", "SPOOL_DIR": str(tmp_path), **setting}
    with pytest.raises(ConfigError) as error:
        create_app(config)
    assert str(error.value).startswith(key_in_message)


def test_the_embedded_default_keeps_one_generated_secret_key(tmp_path):
    from formserver.config import instance_secret

    first = instance_secret(tmp_path / "instance")
    assert len(first) == 64 and instance_secret(tmp_path / "instance") == first
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_office_email_carries_a_handling_reminder_and_a_json_record(app, client,
                                                                       smtp_server):
    submit(client, category="service")
    delivery.deliver_once(app.config)
    office = office_message(smtp_server)
    text = office.get_body(("plain",)).get_content()
    assert "第二類：對管理服務方面的投訴" in text
    assert "/staff/strategies/#kind-2" in text and "一般應不超過一個工作日" in text
    [record] = [json.loads(p.get_content()) for p in office.iter_attachments()
                if p.get_filename() == "complaint.json"]
    assert record["category"] == "service" and record["resident"]["name"] == "陳大文"
    assert record["description"] == VALID_COMPLAINT["description"]


def test_a_follow_up_reaches_office_and_committee_in_the_same_thread(app, client, smtp_server):
    reference = sent_reference(client, submit(client, email=""))
    response = follow_up(client, reference=reference.lower())
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert reference in page and "涉及違法違規" not in page
    delivery.deliver_once(app.config)
    original, later = sorted(smtp_server.handler.parsed(), key=lambda m: "跟進" in m["Subject"])
    assert later["In-Reply-To"] == later["References"] == original["Message-ID"]
    assert later["Message-ID"] != original["Message-ID"]
    assert later["To"] == "office@estate.test" and later["Cc"] == "committee@estate.test"
    assert later["Subject"] == f"[投訴 {reference}] 跟進（第 1 次）| 到期仍未收到回覆"
    assert "兩個工作日過去仍未有回覆" in later.get_body(("plain",)).get_content()


def test_after_a_second_follow_up_the_government_channel_is_shown(app, client):
    reference = sent_reference(client, submit(client, email=""))
    follow_up(client, reference=reference)
    response = follow_up(client, reference=reference, reason="not_satisfied")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "涉及違法違規或嚴重侵害業主權益" in page
    assert "物業管理業監管局" in page and "不會" in page


def test_follow_ups_are_limited_so_nobody_can_be_flooded(app, client, smtp_server):
    reference = sent_reference(client, submit(client, email=""))
    statuses = [follow_up(client, reference=reference).status_code for _ in range(3)]
    assert statuses == [303, 303, 422]
    delivery.deliver_once(app.config)
    assert len(smtp_server.handler.messages) == 3  # the complaint and two follow-ups


def test_a_follow_up_needs_a_real_reference(client, smtp_server):
    response = follow_up(client, reference="20261127-ABC-DEF", access_code="ABCD-EFGH")
    assert response.status_code == 422
    assert "找不到這個投訴" in response.get_data(as_text=True)
    response = follow_up(client, reference="not a reference", details="")
    html = response.get_data(as_text=True)
    assert "投訴編號的格式應該像" in html and "請寫出仍未解決的問題" in html


def test_the_form_points_to_the_government_departments_and_sends_them_nothing(client):
    html = client.get("/complaint").get_data(as_text=True)
    assert "涉及違法違規或嚴重侵害業主權益" in html and "物業管理業監管局" in html


def test_statistics_after_a_batch_hold_no_personal_field(app, client, smtp_server, runner,
                                                        tmp_path):
    for category in ("facilities", "fees", "fees", "emergency"):
        submit(client, category=category, anonymize="y" if category == "emergency" else None)
    delivery.deliver_once(app.config)
    smtp_server.handler.reply = "550 5.1.1 no such mailbox"
    submit(client, category="service", email="")
    delivery.deliver_once(app.config)

    csv_path = tmp_path / "stats.csv"
    result = runner.invoke(args=["stats", "--csv", str(csv_path)])
    assert result.exit_code == 0
    with csv_path.open(encoding="utf-8") as f:
        [row] = list(csv.DictReader(f))
    assert (row["complaints"], row["facilities"], row["fees"], row["emergency"],
            row["service"]) == ("5", "1", "2", "1", "1")
    assert (row["delivered"], row["failed"], row["anonymized"]) == ("4", "1", "1")
    assert "設備設施" in result.output

    db = sqlite3.connect(app.config["STATS_DB"])
    stored = "\n".join(str(value) for table in ("outcomes", "references_seen", "follow_ups")
                       for record in db.execute(f"SELECT * FROM {table}") for value in record)
    db.close()
    for value in (*VALID_COMPLAINT.values(), "chan.taiman", "9123"):
        if value not in ("y", "office", "facilities", "emergency", "fees", "service"):
            assert value not in stored, value
    assert not re.search(r"\d{8}-[2-9A-Z]{3}-[2-9A-Z]{3}", stored), "no plain references"
