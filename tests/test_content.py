"""The content pages carry every sentence of the source text, repaired, marked as the source's,
and nothing damaged.

The source is kept byte for byte in tests/data/complaint-guidance.zh.txt. These tests read
content/*.md directly (Jinja2, then Markdown, as the build does); they use build.py only to
resolve the region preset that the pages' {{ region.… }} refers to.
"""

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import markdown
import pytest
import yaml
from helpers import load_build_module

ROOT = Path(__file__).parent.parent
CONTENT = ROOT / "content"
TEMPLATES = ROOT / "templates"
SOURCE = ROOT / "tests" / "data" / "complaint-guidance.zh.txt"

# Strings the Simplified→Traditional conversion garbled (NOTES.md), each with enough context to
# be unique. Applied first, because they contain the stray ASCII `?`, `;` and `*`.
GARBLED = {
    "期望值肘": "期望值時",
    "某項服務“失?!睍r": "某項服務“失誤”時",
    "事件本身很重犬": "事件本身很重大",
    "帶來較*煩": "帶來較大麻煩",
    "業主口頭;投訴": "業主口頭投訴",
    "一個工作日?;貜涂梢韵驑I主表明": "一個工作日。回復可以向業主表明",
    "“突發性“": "“突發性”",
}
# Words the conversion got wrong: a Simplified character left where Traditional needs another.
WORDS = {
    "復雜": "複雜",
    "采取": "採取",
    "心里": "心裏",  # 裏, not 裡: the Hong Kong standard (the site's own text writes 裏 too)
    "隨著": "隨着",  # 着 for the particle, as Hong Kong writes it (hk2s keeps 著 as 著)
    "沖突": "衝突",
    "規范": "規範",
    "關系": "關係",
    "輕松": "輕鬆",
    # One (Hong Kong) standard for 复: 複 for "again", 覆 for "reply".
    "復查": "複查",
    "答復": "答覆",
    "回復": "回覆",
}
# Every occurrence in the source was checked in context (對于, 趨于, 源于, 處于, 低于, 來源于;
# 材料后, 后續, 處理后, 事后; 并 as 'and'): none is a legitimate Traditional use.
CHARACTERS = {"并": "並", "后": "後", "于": "於"}
PUNCTUATION = str.maketrans({",": "，", ":": "：", ";": "；"})

# A unit that ends a sentence (。！？；) or introduces a list (：) is the author's prose and must
# sit in a 原文 box; titles and item labels (no such ending) are the site's headings too.
SENTENCE_END = re.compile(r"[。！？；：]$")

BLOCK_TAGS = {
    "p", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th",
    "blockquote", "div", "hr", "br", "pre",
}  # fmt: skip
FORM_PATHS = ["/complaint", "/follow-up"]  # served by the form server, not pages


def repair(text: str) -> str:
    """The source with the conversion damage and the ASCII punctuation repaired."""
    for wrong, right in GARBLED.items():
        assert text.count(wrong) == 1, f"expected {wrong!r} exactly once in the source"
        text = text.replace(wrong, right)
    for wrong, right in WORDS.items():
        assert wrong in text, f"expected {wrong!r} in the source"
        text = text.replace(wrong, right)
    for wrong, right in CHARACTERS.items():
        text = text.replace(wrong, right)
    return text.translate(PUNCTUATION)


def sentences(text: str) -> list[str]:
    """Split the repaired source into the units that must each appear on the site.

    Numbering the pages render as headings or list markers is dropped (`01`, `1.`, `篇2：`,
    `一、`, `策略一：`); a numbered item's label (`1.收集證據：`) is its own unit, because the
    pages show it as a heading or bold lead-in; the first kind of complaint runs its heading
    into its text in the source, and is split.
    """
    units: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        line = re.sub(r"^(0\d|篇\d：|[一二三四五六七八九十]+、|策略[一二三四五六]：)", "", line)
        if item := re.match(r"^\d+\.(.+?)：(.*)$", line):
            units.append(item[1])
            line = item[2]
        if kind := re.match(r"^(第[一二三四]類、.+?方面的投訴)(.+)$", line):
            units.append(kind[1])
            line = kind[2]
        units.extend(re.findall(r"[^。！？；]+[。！？；]?", line))
    unique = dict.fromkeys(unit.strip() for unit in units)
    return [unit for unit in unique if unit]


def slugify(value: str, separator: str) -> str:
    """The build's heading anchors: keeps CJK, drops punctuation, whitespace becomes `-`."""
    value = re.sub(r"[^\w\s-]", "", value.strip().lower())
    return re.sub(r"\s+", separator, value)


class _Text(HTMLParser):
    """A page's text, ids and links; `boxed` is the text inside <div class="source"> (原文)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.boxed: list[str] = []
        self.unboxed: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self._divs = 0  # open <div>s
        self._box_at: int | None = None  # the depth of the 原文 box we are in

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag == "div":
            self._divs += 1
            if "source" in (attributes.get("class") or "").split() and self._box_at is None:
                self._box_at = self._divs
        if tag in BLOCK_TAGS:
            self._add(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._add(" ")
        if tag == "div":
            if self._box_at == self._divs:
                self._box_at = None
            self._divs -= 1

    def handle_data(self, data: str) -> None:
        self._add(data)

    def _add(self, text: str) -> None:
        self.parts.append(text)
        (self.boxed if self._box_at is not None else self.unboxed).append(text)


def site() -> dict:
    with (ROOT / "site.toml").open("rb") as f:
        return tomllib.load(f)


def region() -> dict:
    return load_build_module().read_region(site(), ROOT / "regions")


def pages() -> list[Path]:
    return sorted(CONTENT.rglob("*.md"))


def split_page(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.DOTALL)
    assert match, f"{path.relative_to(ROOT)} has no front matter between --- lines"
    return yaml.safe_load(match[1]) or {}, match[2]


def render(path: Path) -> _Text:
    _, body = split_page(path)
    # As in the build: `{#id}` belongs to attr_list, so Jinja comments are `{## … ##}`; pages
    # may include the templates' partials (the emergency notice, the channels by problem).
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        comment_start_string="{##",
        comment_end_string="##}",
    )
    source = environment.from_string(body).render(site=site(), region=region())
    html = markdown.markdown(
        source,
        extensions=["attr_list", "tables", "toc", "md_in_html"],
        extension_configs={"toc": {"slugify": slugify}},
    )
    parsed = _Text()
    parsed.feed(html)
    parsed.close()
    return parsed


def plain(text: str) -> str:
    return " ".join(text.split())


def site_text(boxed_only: bool = False) -> str:
    """All page titles (the build shows them as headings) and all rendered page text; or only
    the text in the pages' 原文 boxes."""
    texts = []
    for path in pages():
        meta, _ = split_page(path)
        page = render(path)
        if boxed_only:
            texts.append("".join(page.boxed))
        else:
            texts.append(str(meta.get("title", "")))
            texts.append("".join(page.parts))
    return plain(" ".join(texts))


def test_the_repair_leaves_no_ascii_punctuation_or_damage_in_the_source():
    repaired = repair(SOURCE.read_text(encoding="utf-8"))
    leftovers = re.findall(r"[^\s\d.\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]", repaired)
    assert leftovers == []
    for damaged in [*GARBLED, *WORDS, *CHARACTERS]:
        assert damaged not in repaired
    assert repaired.count("“") == repaired.count("”")


def test_every_sentence_of_the_source_is_on_the_site():
    units = sentences(repair(SOURCE.read_text(encoding="utf-8")))
    assert len(units) > 100
    text = site_text()
    missing = [unit for unit in units if unit not in text]
    assert missing == [], "missing from the site:\n" + "\n".join(missing)


def test_every_sentence_of_the_source_sits_in_a_box_marked_as_the_source_text():
    units = [u for u in sentences(repair(SOURCE.read_text(encoding="utf-8")))
             if SENTENCE_END.search(u)]
    assert len(units) > 80
    boxed = site_text(boxed_only=True)
    unmarked = [unit for unit in units if unit not in boxed]
    assert unmarked == [], "the source's text outside a 原文 box:\n" + "\n".join(unmarked)


def test_pages_with_source_text_name_their_source_and_the_others_have_none():
    for path in pages():
        meta, _ = split_page(path)
        has_boxes = bool(render(path).boxed)
        assert has_boxes == bool(meta.get("source")), (
            f"{path.relative_to(CONTENT)}: a page with 原文 boxes names its source in front "
            "matter (source: 《…》), and only such a page")


def test_every_sentence_of_the_source_is_in_the_built_traditional_pages(built_site):
    units = sentences(repair(SOURCE.read_text(encoding="utf-8")))
    texts = []
    for page in sorted(built_site.rglob("index.html")):
        if "zh-hans" not in page.relative_to(built_site).parts:
            parsed = _Text()
            parsed.feed(page.read_text(encoding="utf-8"))
            texts.append("".join(parsed.parts))
    text = plain(" ".join(texts))
    missing = [unit for unit in units if unit not in text]
    assert missing == [], "missing from the built site:\n" + "\n".join(missing)
    assert not [d for d in ("并", "后", "于", "?;貜", "*煩") if d in text]


@pytest.mark.parametrize("path", pages(), ids=lambda p: str(p.relative_to(CONTENT)))
def test_no_conversion_damage_remains(path: Path):
    text = path.read_text(encoding="utf-8")
    damage = ["并", "后", "于", "肘", "犬", "?;貜", "*煩", "失?", *WORDS]
    assert [d for d in damage if d in text] == []
    cjk = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”]"
    ascii_in_prose = re.findall(rf"{cjk}[,:;]|[,:;]{cjk}", text)
    assert ascii_in_prose == []
    assert text.count("“") == text.count("”")


def test_every_page_has_title_description_and_order():
    orders = {}
    for path in pages():
        meta, body = split_page(path)
        name = str(path.relative_to(CONTENT))
        assert isinstance(meta.get("title"), str) and meta["title"].strip(), name
        description = meta.get("description")
        assert isinstance(description, str) and re.search(r"[\u4e00-\u9fff]", description), name
        assert re.fullmatch(r"[^。！？]+[。！？]", description), f"{name}: one sentence"
        assert "{" not in description, f"{name}: front matter is not a template"
        assert type(meta.get("order")) is int, name
        assert meta["order"] not in orders, f"{name} and {orders.get(meta['order'])}"
        orders[meta["order"]] = name
        assert body.strip(), name
    assert {"index.md", "staff/index.md", "privacy.md"} <= set(orders.values())


def test_pages_hard_code_no_estate_facts():
    facts = site()
    values = [facts["base_url"], facts["estate"]["name"]]
    for contact in (facts["office"], facts["committee"]):
        values += [contact[key] for key in ("address", "phone", "email", "hours")]
    values += [body["phone"] for body in region()["bodies"].values()
               if len(body["phone"].replace(" ", "")) > 4]  # 999, 1823 are words on the site
    forms = set()
    for value in values:
        bare = value.replace("〔示例〕", "").strip()
        forms |= {value, bare, bare.replace(" ", "")}
    for path in pages():
        text = path.read_text(encoding="utf-8")
        found = [form for form in forms if form and form in text]
        assert found == [], f"{path.relative_to(CONTENT)} hard-codes {found}; use {{{{ site.… }}}}"


def test_every_link_between_pages_points_to_a_page_and_anchor_that_exist():
    rendered = {path: render(path) for path in pages()}
    app_paths = set(site().get("app_paths", FORM_PATHS))
    broken = []
    for path, page in rendered.items():
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in {"http", "https", "mailto", "tel"}:
                continue
            if href.startswith("/"):
                if href not in app_paths:
                    broken.append(f"{path.relative_to(CONTENT)}: {href}")
                continue
            target = (path.parent / parts.path).resolve() if parts.path else path
            if target.suffix != ".md" or target not in rendered:
                broken.append(f"{path.relative_to(CONTENT)}: {href}")
            elif parts.fragment and parts.fragment not in rendered[target].ids:
                broken.append(f"{path.relative_to(CONTENT)}: {href} (no such anchor)")
    assert broken == []


# --- the built site in each region ------------------------------------------------------------

REGIONS = ("HK", "MO", "TW", "CN")
EMERGENCY_WORDS = ("緊急", "火警", "報警", "急救", "救護")
# Bodies only the mainland has, and only Hong Kong has (the 原文 boxes may name the mainland's:
# they are the author's words, marked as such).
ONLY_IN = {
    "CN": ("街道辦事處", "居委會", "居民委員會", "住房和城鄉建設局", "房產管理局", "12345",
           "12315", "人民調解", "市場監督管理"),
    "HK": ("民政事務處", "1823", "物業管理業監管局", "土地審裁處", "機電工程署", "聯合辦事處",
           "小額錢債審裁處", "業主立案法團"),
}
WRONG_SIMPLIFIED = ("数据", "查找", "进程", "交互", "创建")  # for 資料, 查詢, 程序, 互動, 建立
PROBLEM_PAGES = ("guides/water-seepage", "guides/lift-breakdowns", "guides/fee-dispute",
                 "guides/noise")


def preset(code: str) -> dict:
    with (ROOT / "regions" / f"{code}.toml").open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def region_sites(tmp_path_factory):
    """The real content built once per region, with the shipped site.toml set to that region
    (its [region_overrides] are Hong Kong's, so they are left out)."""
    build = load_build_module()
    shipped = (ROOT / "site.toml").read_text("utf-8").split("\n[region_overrides.")[0]
    sites = {}
    for code in REGIONS:
        root = tmp_path_factory.mktemp(f"region-{code}")
        config = root / "site.toml"
        config.write_text(shipped.replace('region = "HK"', f'region = "{code}"'), "utf-8")
        build.build(CONTENT, TEMPLATES, root / "site", config_path=config,
                    static_dir=ROOT / "static")
        sites[code] = root / "site"
    return sites


def built_page(out: Path, url: str) -> _Text:
    html = (out / url / "index.html").read_text("utf-8")
    parsed = _Text()
    parsed.feed(re.search(r"<main.*?</main>", html, re.S)[0])
    return parsed


def built_urls(out: Path, simplified: bool = False) -> list[str]:
    return sorted(p.parent.relative_to(out).as_posix() for p in out.rglob("index.html")
                  if (p.relative_to(out).parts[0] == "zh-hans") == simplified)


@pytest.mark.parametrize("code", REGIONS)
def test_every_page_names_the_regions_emergency_numbers_before_anything_else_about_them(
        region_sites, code):
    numbers = [preset(code)["bodies"][key]["phone"] for key in preset(code)["emergency"]]
    for url in built_urls(region_sites[code]):
        text = plain("".join(built_page(region_sites[code], url).parts))
        first = next((chunk for chunk in re.split(r"[。！？；]|\s{2,}", text)
                      if any(word in chunk for word in EMERGENCY_WORDS)), None)
        if url in (".", "channels", *PROBLEM_PAGES):
            assert first is not None, f"{code} {url}: says nothing about emergencies"
        if first is not None:
            assert all(number in first for number in numbers), (
                f"{code} {url}: the first mention of emergencies, {first!r}, "
                f"does not give {'／'.join(numbers)}")


@pytest.mark.parametrize("code", REGIONS)
def test_the_channels_page_and_each_guide_list_the_regions_channels_by_problem(region_sites,
                                                                             code):
    region = preset(code)
    text = plain("".join(built_page(region_sites[code], "channels").parts))
    text = text[text.index("按問題找"):]  # the emergency notice above says 緊急情況 too
    titles = [channel["title"] for channel in region["channels"].values()]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions), "the problems in the preset's order"
    for channel, start, end in zip(region["channels"].values(), positions,
                                   [*positions[1:], len(text)], strict=True):
        for entry in channel["bodies"]:
            name = plain(region["bodies"][entry["id"]]["name"])
            assert name in text[start:end], f"{code}: {name} under {channel['title']}"
            assert plain(entry["when"]) in text[start:end]
    guides = [*PROBLEM_PAGES, "guides/staff-conduct"]
    problems = ("water-seepage", "lifts", "fees", "noise", "building-management")
    for url, problem in zip(guides, problems, strict=True):
        guide = plain("".join(built_page(region_sites[code], url).parts))
        for entry in region["channels"][problem]["bodies"]:
            assert plain(region["bodies"][entry["id"]]["name"]) in guide, (code, url, entry["id"])


@pytest.mark.parametrize("code", REGIONS)
def test_no_page_names_a_body_of_another_region(region_sites, code):
    own = {body["name"] for body in preset(code)["bodies"].values()}
    foreign = {body["name"] for other in REGIONS if other != code
               for body in preset(other)["bodies"].values()} - own
    foreign |= {term for region, terms in ONLY_IN.items() if region != code for term in terms}
    for url in [*built_urls(region_sites[code]), *built_urls(region_sites[code], True)]:
        page = built_page(region_sites[code], url)
        text = "".join(page.unboxed)
        if url.startswith("zh-hans"):
            foreign_here = {load_build_module().to_simplified(term) for term in foreign}
        else:
            foreign_here = foreign
        assert [term for term in foreign_here if term in text] == [], f"{code} {url}"


@pytest.mark.parametrize("code", REGIONS)
def test_the_simplified_edition_has_none_of_the_wrong_conversions(region_sites, code):
    for url in built_urls(region_sites[code], simplified=True):
        html = (region_sites[code] / url / "index.html").read_text("utf-8")
        assert [word for word in WRONG_SIMPLIFIED if word in html] == [], f"{code} {url}"
    assert (region_sites[code] / "zh-hans" / "404.html").is_file()
    not_found = (region_sites[code] / "zh-hans" / "404.html").read_text("utf-8")
    assert not [word for word in WRONG_SIMPLIFIED if word in not_found]


@pytest.mark.parametrize("code", REGIONS)
def test_the_emergency_notice_reads_as_one_list_of_numbers(region_sites, code):
    """The heading said 「先致電 110／ 119」, the sentence 「110（報警）或 119（火警）或 120」."""
    numbers = [preset(code)["bodies"][key]["phone"] for key in preset(code)["emergency"]]
    html = (region_sites[code] / "index.html").read_text("utf-8")
    heading = re.search(r'<h2 id="emergency-title">(.*?)</h2>', html, re.S)[1]
    assert heading == "緊急情況：先致電 " + "／".join(numbers)
    sentence = plain(re.sub(r"<[^>]+>", "", re.search(r"先打(.*?)</strong>", html, re.S)[1]))
    assert sentence.count("或") == (len(numbers) > 1), sentence
    assert sentence.count("、") >= len(numbers) - 2, sentence


# Hong Kong words that hk2s leaves as they are, which a mainland reader reads otherwise or not at
# all (纪录 is a record set; 剔选 picks out to remove), each with the word the page means.
HONG_KONG_WORDS = {"纪录": "记录", "列印": "打印", "剔选": "勾选", "透过": "通过", "带备": "带上",
                   "核数": "审计", "上落": "上下楼", "入禀": "起诉", "随著": "随着"}


@pytest.mark.parametrize("code", REGIONS)
def test_the_simplified_edition_says_what_a_mainland_reader_says(region_sites, code):
    for url in built_urls(region_sites[code], simplified=True):
        text = "".join(built_page(region_sites[code], url).parts)
        left = {word: HONG_KONG_WORDS[word] for word in HONG_KONG_WORDS if word in text}
        assert left == {}, f"{code} {url}: write these as"


@pytest.mark.parametrize("code", REGIONS)
def test_the_channels_speak_of_lifts_as_the_regions_residents_do(region_sites, code):
    """Taiwan's and the mainland's channels were headed 升降機及其他設備安全 (Hong Kong's word)."""
    region = preset(code)
    assert region["words"]["lift"] in region["channels"]["lifts"]["title"]
    other = {"升降機", "電梯"} - {region["words"]["lift"]}
    text = plain("".join(built_page(region_sites[code], "channels").parts))
    text = text[text.index("按問題找"):]
    assert [word for word in other if word in text] == [], code
