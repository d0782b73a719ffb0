"""The complaint form from request to message at a real SMTP server."""

from __future__ import annotations

from conftest import submit

from formserver import delivery


def test_a_valid_complaint_is_spooled_and_delivered(app, client, smtp_server):
    response = submit(client)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="reference"' in page
    result = delivery.deliver_once(app.config)
    assert len(result.sent) == 2
    office, ack = sorted(smtp_server.handler.parsed(), key=lambda m: m["To"] != "office@estate.test")
    assert "第3座升降機經常停用" in office["Subject"]
    print(office.as_string()[:3000])
