"""The built site read as its readers read it: an elderly resident on a phone, a bilingual
editor, a screen reader. Each test names what such a reader would have met."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import FIXTURE_CONFIG, ROOT, load_build_module


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def main_of(html: str) -> str:
    return re.search(r"<main.*?</main>", html, re.S)[0]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


# --- placeholders a resident could act on ----------------------------------------------------


def test_a_phone_does_not_offer_to_dial_a_run_of_digits_that_is_not_a_tel_link(built_site,
                                                                                client):
    """iOS and some Android browsers turn any run of digits into a number to dial: an example
    number (〔示例〕2345 6789) or a complaint's reference (20261127-K7Q-4M2) became one."""
    meta = '<meta name="format-detection" content="telephone=no">'
    for page in pages(built_site):
        assert meta in page.read_text("utf-8"), page
    for path in ("/complaint", "/zh-hans/complaint", "/status", "/follow-up"):
        assert meta in client.get(path).get_data(as_text=True), path


def test_the_office_phone_on_the_pages_is_a_number_to_tap_once_it_is_real(site_build,
                                                                           fixture_site,
                                                                           build_fixture):
    """With telephone detection off, the pages' own mentions of the office's number must be
    tel: links themselves, or a real number could no longer be tapped."""
    (fixture_site / "content" / "contact.md").write_text(
        "---\ntitle: 聯絡\norder: 9\n---\n"
        "- 電話：{% with number = site.office.phone %}{% include \"_tel.html\" %}{% endwith %}\n",
        "utf-8")
    main = main_of((build_fixture() / "contact" / "index.html").read_text("utf-8"))
    assert '<a href="tel:23450000">2345 0000</a>' in main
    for page in ("index.md", "channels.md", "privacy.md", "404.md"):
        source = (ROOT / "content" / page).read_text("utf-8")
        assert "{{ site.office.phone }}" not in source, f"{page}: the office phone as plain text"


def test_an_example_email_address_is_marked_and_never_a_link_to_write_to(built_site):
    """office@example.org was a mailto: link on every page, and --strict let it through: a
    resident's email went nowhere."""
    shipped = load_build_module().read_config(ROOT / "site.toml")
    for who in ("office", "committee"):
        assert shipped[who]["email"].startswith("〔示例〕"), who
    for page in pages(built_site):
        html = page.read_text("utf-8")
        mailto = re.findall(r'href="mailto:([^"]*)"', html)
        assert [a for a in mailto if "〔" in a or a.endswith("example.org")] == [], page
        assert '<span class="placeholder">〔示例〕office@example.org</span>' in html, page


def test_a_real_email_address_stays_a_link(site_build, fixture_site, build_fixture):
    out = build_fixture()
    footer = (out / "index.html").read_text("utf-8").split("<footer", 1)[1]
    assert '<a href="mailto:office@estate.test">office@estate.test</a>' in footer
    (fixture_site / "site.toml").write_text(
        FIXTURE_CONFIG.replace('email = "office@estate.test"',
                               'email = "〔示例〕office@estate.test"'), "utf-8")
    footer = (build_fixture() / "index.html").read_text("utf-8").split("<footer", 1)[1]
    assert '<span class="placeholder">〔示例〕office@estate.test</span>' in footer
    assert "mailto:〔示例〕" not in footer and "mailto:office@" not in footer


# --- one Hong Kong standard in the Traditional text ------------------------------------------

# Forms Hong Kong writes otherwise (Taiwan's 裡 and 著, the conversion's 復); the site had both
# 手機裡 and PDF 裏.
OTHER_FORMS = {"裡": "裏", "隨著": "隨着", "帶著": "帶着", "復查": "複查", "答復": "答覆",
               "回復": "回覆"}


def test_the_traditional_pages_keep_to_one_hong_kong_standard(built_site):
    for page in pages(built_site):
        if "zh-hans" in page.relative_to(built_site).parts:
            continue
        text = text_of(page.read_text("utf-8"))
        left = {form: OTHER_FORMS[form] for form in OTHER_FORMS if form in text}
        assert left == {}, f"{page.relative_to(built_site)}: write these as"


def test_every_page_that_says_what_de_identification_hides_says_it_in_the_one_wording(
        built_site):
    """注意事項 had its own account: the name and unit 'masked' (they are not sent at all), only
    a photo's capture data removed (every file's metadata is)."""
    wording = load_build_module().read_config(ROOT / "site.toml")["wording"]
    for url in ("precautions", "privacy", "staff/de-identified"):
        text = text_of(main_of((built_site / url / "index.html").read_text("utf-8")))
        assert wording["deidentification"] in text, url
        if not url.startswith("staff"):
            assert wording["deidentification_contact"] in text, url
    for page in pages(built_site):
        if "zh-hans" not in page.relative_to(built_site).parts:
            assert "會被遮蓋" not in page.read_text("utf-8"), page


# --- finding one's problem --------------------------------------------------------------------

# What an elderly resident comes with, and words its guide's title must have.
PROBLEMS = {"樓上滲水": ("滲水",), "升降機壞了": ("升降機",), "管理費有爭議": ("管理費",),
            "保安員無禮": ("保安", "態度"), "深夜噪音": ("噪音", "夜間")}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_from_the_home_page_a_resident_reaches_a_guide_for_their_problem(built_site, problem):
    """There was no word on a rude guard or on noise at night anywhere a resident would read."""
    home = main_of((built_site / "index.html").read_text("utf-8"))
    links = dict((text_of(title), href) for href, title in
                 re.findall(r'<a [^>]*href="(guides/[^"#]+)"[^>]*>(.*?)</a>', home))
    found = [href for title, href in links.items()
             if all(word in title for word in PROBLEMS[problem])]
    assert found, f"{problem}: no guide on the home page among {sorted(links)}"
    guide = main_of((built_site / found[0] / "index.html").read_text("utf-8"))
    for section in ("每一步等多久", "可以找誰", "不要這樣做"):
        assert section in guide, (problem, section)


def test_the_form_servers_words_keep_to_the_same_standard():
    """Its pages, emails and the words its code shows (the site's pages are read above)."""
    sources = [*(ROOT / "formserver" / "templates").rglob("*.html"),
               *(ROOT / "formserver" / "templates").rglob("*.txt"),
               *(ROOT / "formserver").rglob("*.py")]
    left = {str(path.relative_to(ROOT)): [form for form in OTHER_FORMS
                                          if form in path.read_text("utf-8")]
            for path in sources}
    assert {path: forms for path, forms in left.items() if forms} == {}
