"""The static-site build: pages, links, failures, determinism, editions, incremental rebuilds."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import FIXTURE_CONFIG, FIXTURE_PAGES, ROOT


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
    for url in ("", "preparation/", "channels/", "process/", "precautions/", "guides/",
                "guides/water-seepage/", "guides/lift-breakdowns/", "guides/fee-dispute/",
                "guides/checklist/", "guides/sample-complaint/", "staff/", "staff/reception/",
                "staff/strategies/", "staff/counter-checklist/", "staff/de-identified/",
                "privacy/"):
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


# --- the process pool, the inline-pattern filter ---------------------------------------------


def write_corpus(content: Path, pages: int) -> None:
    """Pages linking to each other (anchors too), enough to go over the pool's threshold."""
    for n in range(pages):
        section = "" if n < 5 else f"s{n % 5}/"
        nxt = f"{'../' if section else ''}p{(n + 1) % 5}.md"
        path = content / f"{section}p{n}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\ntitle: 第 {n} 頁\ndescription: 測試頁。\norder: {n + 1}\n---\n"
                        f"## 第一節 {{#one}}\n\n見[下一頁]({nxt}#one)和`代碼`。\n\n"
                        f"## 第二節\n\n**粗體**、*斜體*、<b>標記</b> &amp; 資料。\n", "utf-8")
    (content / "index.md").write_text("---\ntitle: 首頁\norder: 0\n---\n[第一頁](p1.md)\n", "utf-8")


def test_a_corpus_over_the_pool_threshold_builds_the_same_with_a_pool_as_in_one_process(
        site_build, fixture_site):
    content = fixture_site / "content"
    shutil.rmtree(content)
    write_corpus(content, site_build.PARALLEL_THRESHOLD + 10)
    pooled = tree(build_into(site_build, fixture_site, "pooled", jobs=2))
    single = tree(build_into(site_build, fixture_site, "single", jobs=1))
    assert len(pooled) > 2 * site_build.PARALLEL_THRESHOLD
    assert pooled == single


def build_into(site_build, fixture_site: Path, name: str, **kwargs) -> Path:
    out = fixture_site / name
    site_build.build(fixture_site / "content", fixture_site / "templates", out, **kwargs)
    return out


def test_leaving_out_inline_patterns_that_cannot_match_changes_no_page(site_build, tmp_path,
                                                                       monkeypatch):
    filtered = tmp_path / "filtered"
    site_build.build(ROOT / "content", ROOT / "templates", filtered, jobs=1)
    monkeypatch.setattr(site_build, "inline_patterns", lambda md, body: list(md.inlinePatterns))
    every = tmp_path / "every"
    site_build.build(ROOT / "content", ROOT / "templates", every, jobs=1)
    assert tree(filtered) == tree(every)


def test_the_filter_keeps_every_pattern_a_page_could_use_in_the_registrys_order(site_build):
    md = site_build.make_markdown()
    everything = "`x` \\* [a](b) ![c](d) <e> &amp; two  \n *f* _g_"
    assert site_build.inline_patterns(md, everything) == list(md.inlinePatterns)
    assert site_build.inline_patterns(md, "只有中文，沒有任何標記。") == []
    assert site_build.inline_patterns(md, "見[下一頁](p.md)。") == [
        md.inlinePatterns[name] for name in ("reference", "link", "short_reference")]


# --- site.json, the contract with the form server --------------------------------------------


def contract(out: Path) -> dict:
    return json.loads(read(out, "site.json"))


def test_site_json_gives_the_form_server_the_navigation_assets_editions_and_region(
        build_fixture):
    out = build_fixture()
    site = contract(out)
    assert site["version"] == 1 and site["base_url"] == "https://estate.test"
    assert site["editions"]["hans"] == {"lang": "zh-Hans", "prefix": "/zh-hans"}
    css = site["assets"]["style.css"]
    assert (out / css.lstrip("/")).is_file() and css.startswith("/static/style.")
    assert all((out / path.lstrip("/")).is_file() for path in site["assets"].values())
    hrefs = [href for href, _ in collect(read(out, "steps/index.html")).nav]
    assert [item["url"] for item in site["nav"]["hant"]] == ["/", "/steps/", "/prep/", "/staff/"]
    assert len(hrefs) == len(site["nav"]["hant"]) + 1  # and 我要投訴
    assert [item["title"] for item in site["nav"]["hans"]] == ["首页", "投诉流程", "投诉准备",
                                                               "员工指引"]
    assert site["nav"]["hans"][1]["url"] == "/zh-hans/steps/"
    assert site["region"]["code"] == "HK" and site["region"]["emergency_numbers"][0]["number"]


def test_site_json_stays_complete_whatever_the_private_manifest_looks_like(
        site_build, fixture_site, build_fixture, monkeypatch):
    expected = contract(build_fixture(out=fixture_site / "usual"))
    monkeypatch.setattr(site_build, "manifest_data",
                        lambda site, facts, outputs: {"format": 99, "files": outputs})
    out = build_fixture()
    assert json.loads(read(out, site_build.MANIFEST))["format"] == 99
    assert contract(out) == expected
    monkeypatch.undo()  # the next build finds a manifest it does not know: it starts afresh
    result = site_build.build(fixture_site / "content", fixture_site / "templates", out)
    assert result.skipped == 0 and contract(out) == expected
    assert [item["title"] for item in contract(out)["nav"]["hant"]] == [
        "首頁", "投訴流程", "投訴準備", "員工指引"]


# --- placeholders ----------------------------------------------------------------------------


def test_strict_fails_on_the_shipped_site_toml_and_lists_every_placeholder(site_build, tmp_path):
    with pytest.raises(site_build.BuildError) as failure:
        site_build.build(ROOT / "content", ROOT / "templates", tmp_path / "site", strict=True)
    message = str(failure.value)
    assert "site.toml: office.phone = 〔示例〕" in message
    assert "site.toml: region_overrides.bodies.district-office.phone = 〔示例〕" in message
    assert "regions/HK.toml: bodies.lands-tribunal.phone = 〔待核實〕" in message
    assert not (tmp_path / "site").exists(), "nothing is built"


def test_strict_passes_once_every_placeholder_is_filled_in(site_build, tmp_path):
    found = site_build.build(ROOT / "content", ROOT / "templates", tmp_path / "draft").placeholders
    assert found, "the shipped site.toml has placeholders"
    config = (ROOT / "site.toml").read_text("utf-8")
    for line in config.splitlines():  # the estate's own values
        if "〔示例〕" in line:
            config = config.replace(line, re.sub(r"〔示例〕", "", line))
    for item in found:  # the preset's unverified ones, checked and given in [region_overrides]
        where, _, rest = item.partition(": ")
        if where.startswith("regions/"):
            key, _, _ = rest.partition(" = ")
            table, field = key.rsplit(".", 1)
            checked = "2000 0000" if field == "phone" else "已核實的值"
            config += f'\n[region_overrides.{table}]\n{field} = "{checked}"\n'
    (tmp_path / "site.toml").write_text(config, "utf-8")
    result = site_build.build(ROOT / "content", ROOT / "templates", tmp_path / "site",
                              config_path=tmp_path / "site.toml", strict=True)
    assert result.placeholders == [] and (tmp_path / "site" / "index.html").is_file()
    assert 'href="tel:20000000"' in read(tmp_path / "site", "channels/index.html")


def test_without_strict_the_command_line_warns_of_each_placeholder(site_build, fixture_site,
                                                                   capsys):
    config = fixture_site / "site.toml"
    config.write_text(FIXTURE_CONFIG.replace('phone = "2345 0000"', 'phone = "〔示例〕2345 0000"'),
                      "utf-8")
    args = ["--content", str(fixture_site / "content"), "--templates",
            str(fixture_site / "templates"), "--out", str(fixture_site / "site")]
    assert site_build.main(args) == 0
    assert "warning: placeholder left: site.toml: office.phone = 〔示例〕2345 0000" in \
        capsys.readouterr().err
    assert site_build.main([*args, "--strict"]) == 1
    assert "office.phone = 〔示例〕2345 0000" in capsys.readouterr().err


def test_a_placeholder_phone_is_shown_but_never_a_tel_link(site_build, fixture_site,
                                                           build_fixture):
    (fixture_site / "site.toml").write_text(
        FIXTURE_CONFIG.replace('phone = "2345 0000"', 'phone = "〔示例〕2345 0000"'), "utf-8")
    footer = read(build_fixture(), "index.html").split('<footer', 1)[1]
    assert "〔示例〕2345 0000" in footer and 'href="tel:23450000"' not in footer
    assert 'href="tel:23450001"' in footer, "a real number is still a link"


# --- the Simplified edition ------------------------------------------------------------------


def test_to_simplified_changes_the_words_of_the_phrase_table_and_keeps_the_rest(site_build):
    simplified = site_build.to_simplified(
        '<p>請用電郵查詢資料和程序，「上載」檔案。</p><a lang="zh-Hant" href="x">繁體中文</a>')
    assert simplified == ('<p>请用电子邮件查询资料和程序，“上传”文件。</p>'
                          '<a lang="zh-Hant" href="x">繁體中文</a>')
    assert site_build.to_simplified("《個人資料（私隱）條例》和私隱聲明") == \
        "《个人资料（私隐）条例》和隐私声明"


def test_a_phrase_table_entry_that_is_not_simplified_fails_with_its_name(site_build, tmp_path):
    table = tmp_path / "phrases.toml"
    table.write_text('[phrases]\n"電郵" = "電子郵件"\n', "utf-8")
    with pytest.raises(site_build.BuildError, match="'電郵' = '電子郵件'"):
        site_build.to_simplified("電郵", table)


def test_the_simplified_404_and_form_links_stay_in_the_simplified_edition(build_fixture,
                                                                          fixture_site):
    (fixture_site / "content" / "404.md").write_text(
        "---\ntitle: 找不到\norder: 99\n---\n回到[首頁](index.md)或[投訴](/complaint)。\n",
        "utf-8")
    out = build_fixture()
    not_found = read(out, "zh-hans/404.html")
    main = not_found.split("<main", 1)[1].split("</main>")[0]
    assert 'href="/zh-hans/"' in main and 'href="/zh-hans/complaint"' in main
    assert 'href="/"' not in not_found.split("<footer")[0].split("lang-switch")[0]
    hans = read(out, "zh-hans/index.html")
    assert 'href="../zh-hans/complaint"' not in hans  # one prefix, not two
    assert 'href="/zh-hans/complaint"' in hans and 'class="nav-cta" href="complaint"' in hans
    assert 'data-print="https://estate.test/zh-hans/prep/"' in hans


# --- who wrote what; the region --------------------------------------------------------------


def test_the_source_authors_text_is_labelled_and_every_page_says_who_wrote_it(
        build_fixture, fixture_site):
    (fixture_site / "content" / "prep.md").write_text(
        "---\ntitle: 投訴準備\norder: 2\nsource: 《原文篇名》\n---\n本站的話。\n\n"
        '<div class="source" markdown="1">\n\n作者的話。\n\n</div>\n', "utf-8")
    out = build_fixture()
    prep = read(out, "prep/index.html")
    assert re.search(r'<div class="source">\s*<p class="source-label">原文</p>\s*<p>作者的話',
                     prep)
    assert "《原文篇名》一文的原文" in prep.split('<p class="provenance">')[1].split("</p>")[0]
    for page in ("index.html", "steps/index.html", "staff/reception/index.html"):
        assert '<p class="provenance">本頁的文字全部由本站編寫' in read(out, page), page


def test_site_toml_chooses_the_region_and_overrides_any_of_its_values(
        site_build, build_fixture, fixture_site):
    config = fixture_site / "site.toml"
    config.write_text(FIXTURE_CONFIG.replace('region = "HK"', 'region = "TW"') +
                      '[region_overrides.bodies.mediation]\nphone = "02-1234-5678"\n', "utf-8")
    region = contract(build_fixture())["region"]
    assert region["code"] == "TW" and region["bodies"]["mediation"]["phone"] == "02-1234-5678"
    assert region["bodies"]["mediation"]["name"].endswith("調解委員會"), "the rest is kept"
    assert [n["number"] for n in region["emergency_numbers"]] == ["110", "119"]


@pytest.mark.parametrize(("addition", "expected"), [
    ('region = "XX"', r"region = 'XX': there is no such preset; use one of CN, HK, MO, TW"),
    ('[region_overrides.bodies.pmsa]\nphone = "請致電總機"',
     r"bodies\.pmsa\.phone = '請致電總機': write the number only"),
    ('[region_overrides.channels.lifts]\nbodies = [{ id = "nobody", when = "x" }]',
     r"channels\.lifts\.bodies\.0\.id = 'nobody': no such body"),
])
def test_a_wrong_region_setting_fails_with_the_key_to_fix(site_build, build_fixture,
                                                          fixture_site, addition, expected):
    config = FIXTURE_CONFIG.replace('region = "HK"\n', "")
    (fixture_site / "site.toml").write_text(addition + "\n" + config if addition.startswith(
        "region") else config + addition + "\n", "utf-8")
    with pytest.raises(site_build.BuildError, match=expected):
        build_fixture()


# --- the contract is documented, and the shared layout keeps to it --------------------------

CONTRACT_DOC = (ROOT / "docs" / "site-contract.md").read_text("utf-8")
LAYOUT_CONTEXT = {"site", "region", "nav", "breadcrumbs", "lang", "edition", "prefix",
                  "other_edition", "link", "page_link", "asset", "page"}


def test_every_key_of_site_json_and_of_the_region_is_documented(build_fixture):
    site = contract(build_fixture())
    prose = re.sub(r"```.*?```", "", CONTRACT_DOC, flags=re.S)
    documented = {word for span in re.findall(r"`([^`]+)`", prose)
                  for word in re.findall(r"[a-z_]+", span)}
    region = site["region"]
    keys = {*site, *region, *region["words"], *region["form"], *region["owners_body"],
            *(key for body in region["bodies"].values() for key in body),
            *(key for channel in region["channels"].values() for key in channel),
            *(key for channel in region["channels"].values() for entry in channel["bodies"]
              for key in entry)}
    missing = keys - documented
    assert not missing, f"document these in docs/site-contract.md: {sorted(missing)}"


def test_the_shared_layout_and_its_partials_use_only_the_documented_context(site_build):
    from jinja2 import meta

    env = site_build.make_env(ROOT / "templates")
    partials = sorted(p.name for p in (ROOT / "templates").glob("_*.html"))
    for name in ["base.html", *partials]:
        used = meta.find_undeclared_variables(env.parse(env.loader.get_source(env, name)[0]))
        # a partial's own inputs
        allowed = LAYOUT_CONTEXT | {"number", "address", "problems", "level"}
        assert used <= allowed, f"{name} uses {sorted(used - allowed)}"
        if name != "base.html":
            assert f"`{name}`" in CONTRACT_DOC, f"document {name} in docs/site-contract.md"
