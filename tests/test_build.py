"""The static-site build: pages, links, failures, determinism, editions, incremental rebuilds."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import FIXTURE_PAGES, ROOT


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read(out: Path, path: str) -> str:
    return (out / path).read_text("utf-8")


class LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.nav: list[tuple[str, str | None]] = []
        self._in_nav = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-label") == "主要導覽":
            self._in_nav = True
        for name in ("href", "src", "action", "srcset", "poster", "data"):
            if attrs.get(name):
                self.refs.append((tag, name, attrs[name]))
        if self._in_nav and tag == "a":
            self.nav.append((attrs["href"], attrs.get("aria-current")))

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_nav = False


def collect(html: str) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(html)
    return collector


def test_pages_are_written_at_clean_urls(build_fixture):
    out = build_fixture()
    for path in ("index.html", "prep/index.html", "steps/index.html", "staff/index.html",
                 "staff/reception/index.html"):
        assert (out / path).is_file(), path
    assert not (out / "prep.html").exists()


def test_links_to_markdown_files_become_relative_clean_urls(build_fixture):
    out = build_fixture()
    assert 'href="prep/"' in read(out, "index.html")
    assert 'href="steps/#second"' in read(out, "index.html")
    assert 'href="../../steps/"' in read(out, "staff/reception/index.html")


def test_navigation_follows_the_order_in_front_matter_and_marks_the_current_page(build_fixture):
    out = build_fixture()
    nav = collect(read(out, "steps/index.html")).nav
    assert [href for href, _ in nav] == ["../", "./", "../prep/", "../staff/", "../complaint"]
    assert dict(nav)["./"] == "page"
    assert [current for _, current in nav].count("page") == 1


def test_staff_pages_have_breadcrumbs_and_mark_their_section(build_fixture):
    html = read(build_fixture(), "staff/reception/index.html")
    crumbs = re.search(r'<nav class="breadcrumbs.*?</nav>', html, re.S).group(0)
    assert "首頁" in crumbs and "員工指引" in crumbs and 'aria-current="page">接待投訴' in crumbs
    assert dict(collect(html).nav)["../"] == "true"


def test_estate_facts_come_from_the_site_configuration(build_fixture):
    out = build_fixture()
    assert "2345 0000" in read(out, "prep/index.html")
    assert "測試花園地下" in read(out, "index.html")  # footer


def test_a_long_page_gets_a_table_of_contents_and_a_short_one_does_not(build_fixture):
    out = build_fixture()
    assert 'class="toc"' in read(out, "steps/index.html")
    assert 'href="#第三步-調查核實"' in read(out, "steps/index.html")
    assert 'class="toc"' not in read(out, "prep/index.html")


def test_a_broken_page_link_fails_with_file_line_and_link(site_build, build_fixture,
                                                           fixture_site):
    out = build_fixture()
    before = tree(out)
    page = fixture_site / "content" / "prep.md"
    page.write_text(page.read_text("utf-8") + "\n見[不存在](missing.md)。\n", "utf-8")
    with pytest.raises(site_build.BuildError) as failure:
        build_fixture()
    message = str(failure.value)
    assert "prep.md:8" in message and "missing.md" in message
    assert tree(out) == before, "a failed build must leave the previous site untouched"


def test_a_link_to_a_missing_anchor_fails(site_build, build_fixture, fixture_site):
    page = fixture_site / "content" / "index.md"
    page.write_text(page.read_text("utf-8").replace("#second", "#nowhere"), "utf-8")
    with pytest.raises(site_build.BuildError, match=r"index\.md:6: .*steps\.md has no heading "
                                                    r"or id 'nowhere'"):
        build_fixture()


def test_a_link_to_an_unknown_absolute_path_fails(site_build, build_fixture, fixture_site):
    page = fixture_site / "content" / "prep.md"
    page.write_text(page.read_text("utf-8") + "\n[表格](/forms/old)\n", "utf-8")
    with pytest.raises(site_build.BuildError, match="/forms/old"):
        build_fixture()


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ("---\ndescription: 沒有標題\norder: 1\n---\n", r"prep\.md:2: the page has no title"),
        ("---\ntitle: [未閉合\n---\n", r"prep\.md:\d+: front matter does not parse"),
        ("只有內容，沒有前置資料。\n", r"prep\.md:1: no front matter"),
        ("---\ntitle: 未結束\n", r"prep\.md:1: front matter is not closed"),
    ],
)
def test_bad_front_matter_fails_with_a_message_that_says_what_to_fix(
        site_build, build_fixture, fixture_site, front_matter, expected):
    (fixture_site / "content" / "prep.md").write_text(front_matter + "內容\n", "utf-8")
    with pytest.raises(site_build.BuildError, match=expected):
        build_fixture()


def test_the_same_input_builds_byte_identical_output(build_fixture, fixture_site):
    first = tree(build_fixture(out=fixture_site / "a"))
    second = tree(build_fixture(out=fixture_site / "b", jobs=1))
    assert first == second


def test_a_rebuild_with_nothing_changed_writes_nothing(site_build, fixture_site, build_fixture):
    out = build_fixture()
    before = tree(out)
    result = site_build.build(fixture_site / "content", fixture_site / "templates", out)
    assert result.written == [] and result.skipped == len(FIXTURE_PAGES)
    assert tree(out) == before


def test_an_incremental_rebuild_matches_a_clean_build(site_build, fixture_site, build_fixture):
    out = build_fixture()
    page = fixture_site / "content" / "staff" / "reception.md"
    page.write_text(page.read_text("utf-8") + "\n新增一段。\n", "utf-8")
    (fixture_site / "content" / "prep.md").unlink()
    index = fixture_site / "content" / "index.md"
    index.write_text(index.read_text("utf-8").replace("[準備](prep.md)", "準備"), "utf-8")
    result = site_build.build(fixture_site / "content", fixture_site / "templates", out)
    assert not (out / "prep" / "index.html").exists(), "a deleted page's output is removed"
    assert out / "prep" / "index.html" in result.removed
    clean = build_fixture(out=fixture_site / "clean", clean=True)
    assert tree(out) == tree(clean)


def test_changing_a_page_title_rebuilds_every_page_that_shows_it(site_build, fixture_site,
                                                                  build_fixture):
    out = build_fixture()
    page = fixture_site / "content" / "prep.md"
    page.write_text(page.read_text("utf-8").replace("title: 投訴準備", "title: 準備材料"), "utf-8")
    site_build.build(fixture_site / "content", fixture_site / "templates", out)
    assert "準備材料" in read(out, "staff/reception/index.html")


def test_the_simplified_edition_mirrors_every_page(build_fixture):
    out = build_fixture()
    hant = read(out, "staff/reception/index.html")
    hans = read(out, "zh-hans/staff/reception/index.html")
    assert '<html lang="zh-Hant">' in hant and '<html lang="zh-Hans">' in hans
    assert "接待投訴" in hant and "接待投诉" in hans and "接待投訴" not in hans
    assert "员工指引" in hans
    # the switch back names the other edition in its own script
    assert '<a class="lang-switch" href="../../../staff/reception/" lang="zh-Hant"' in hans
    assert ">繁體中文</a>" in hans
    assert '<a class="lang-switch" href="../../zh-hans/staff/reception/" lang="zh-Hans"' in hant


def test_every_page_names_its_translation_with_hreflang(build_fixture):
    html = read(build_fixture(), "prep/index.html")
    assert '<link rel="alternate" hreflang="zh-Hant" href="https://estate.test/prep/">' in html
    assert ('<link rel="alternate" hreflang="zh-Hans" href="https://estate.test/zh-hans/prep/">'
            in html)


def test_sitemap_and_robots_use_the_configured_base_url(build_fixture):
    out = build_fixture()
    sitemap = read(out, "sitemap.xml")
    assert "<loc>https://estate.test/staff/reception/</loc>" in sitemap
    assert "<loc>https://estate.test/zh-hans/prep/</loc>" in sitemap
    assert "404" not in sitemap
    assert "Sitemap: https://estate.test/sitemap.xml" in read(out, "robots.txt")


def test_static_assets_get_content_hashed_names(build_fixture):
    out = build_fixture()
    [css] = list((out / "static").glob("style.*.css"))
    assert re.fullmatch(r"style\.[0-9a-f]{10}\.css", css.name)
    assert f'href="static/{css.name}"' in read(out, "index.html")
    assert f'href="../../static/{css.name}"' in read(out, "staff/reception/index.html")


def test_the_404_page_uses_absolute_links(build_fixture, fixture_site):
    (fixture_site / "content" / "404.md").write_text(
        "---\ntitle: 找不到\norder: 99\n---\n回到[首頁](index.md)。\n", "utf-8")
    html = read(build_fixture(), "404.html")
    assert 'href="/"' in html and 'href="/static/style.' in html


@pytest.mark.parametrize("where", ["content", ".", "content/.."])
def test_the_build_refuses_an_output_folder_that_holds_the_sources(site_build, fixture_site,
                                                                   where):
    with pytest.raises(site_build.BuildError, match="refusing"):
        site_build.build(fixture_site / "content", fixture_site / "templates",
                         fixture_site / where, clean=True)
    assert (fixture_site / "content" / "index.md").exists()


def test_the_command_line_builds_with_overridden_paths(site_build, fixture_site, capsys):
    out = fixture_site / "elsewhere"
    code = site_build.main(["--content", str(fixture_site / "content"),
                            "--templates", str(fixture_site / "templates"), "--out", str(out)])
    assert code == 0 and (out / "index.html").is_file()
    (fixture_site / "content" / "index.md").write_text("沒有前置資料", "utf-8")
    code = site_build.main(["--content", str(fixture_site / "content"),
                            "--templates", str(fixture_site / "templates"), "--out", str(out)])
    assert code == 1 and "index.md:1: no front matter" in capsys.readouterr().err


def test_the_real_content_builds_in_both_editions(site_build, tmp_path):
    out = tmp_path / "site"
    site_build.build(ROOT / "content", ROOT / "templates", out)
    pages = {p.relative_to(out).as_posix() for p in out.rglob("index.html")}
    for url in ("", "preparation/", "channels/", "process/", "precautions/", "staff/",
                "staff/reception/", "staff/strategies/", "privacy/"):
        assert f"{url}index.html" in pages and f"zh-hans/{url}index.html" in pages


def test_no_built_page_references_an_outside_host(site_build, tmp_path):
    out = tmp_path / "site"
    site_build.build(ROOT / "content", ROOT / "templates", out)
    base = site_build.read_config(ROOT / "site.toml")["base_url"]
    for page in out.rglob("*.html"):
        for tag, _attribute, value in collect(page.read_text("utf-8")).refs:
            if re.match(r"^[a-z][a-z0-9+.-]*:", value, re.I):
                own = value.startswith(base + "/") and tag == "link"
                assert own or value.split(":")[0] in ("mailto", "tel"), (page, tag, value)
    for css in out.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", css.read_text("utf-8")), css
