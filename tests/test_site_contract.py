"""The form server reads the built site only through its public contract, site/site.json."""

from __future__ import annotations

import json
import shutil

import pytest
from helpers import make_app


def test_the_forms_navigation_is_complete_whatever_the_builds_private_cache_holds(
        tmp_path, smtp_server, built_site):
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    (site / ".build-manifest.json").write_text(json.dumps({"format": "something else"}))
    contract = json.loads((site / "site.json").read_text("utf-8"))
    html = make_app(tmp_path, smtp_server, site).test_client().get("/complaint").get_data(
        as_text=True)
    titles = [item["title"] for item in contract["nav"]["hant"]]
    assert len(titles) >= 5
    for title in titles:
        assert f">{title}</a>" in html, title
    assert f'href="{contract["assets"]["style.css"]}"' in html


def test_the_stylesheet_the_form_links_is_served_and_cached_for_ever(client, built_site):
    contract = json.loads((built_site / "site.json").read_text("utf-8"))
    with client.get(contract["assets"]["style.css"]) as response:
        assert response.status_code == 200 and b"{" in response.data
        assert "immutable" in response.headers["Cache-Control"]


def test_without_a_built_site_the_form_still_answers(tmp_path, smtp_server):
    html = make_app(tmp_path, smtp_server, tmp_path / "not-built").test_client().get(
        "/complaint").get_data(as_text=True)
    assert "網上投訴表格" in html and 'name="description"' in html


@pytest.mark.parametrize("path", ["/complaint", "/zh-hans/complaint", "/no-such-page/",
                                  "/zh-hans/follow-up"])
def test_a_placeholder_phone_is_never_a_link_to_dial(client, app, path):
    phone = app.config["SITE"]["office"]["phone"]
    assert phone.startswith("〔示例〕")  # the shipped site.toml
    html = client.get(path).get_data(as_text=True)
    digits = phone.removeprefix("〔示例〕").replace(" ", "")
    assert f'href="tel:{digits}"' not in html
