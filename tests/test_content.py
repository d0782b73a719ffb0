"""The content pages carry every sentence of the source text, repaired, and nothing damaged.

The source is kept byte for byte in tests/data/complaint-guidance.zh.txt. These tests read
content/*.md directly (Jinja2, then Markdown, as the build does) and do not depend on build.py.
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

ROOT = Path(__file__).parent.parent
CONTENT = ROOT / "content"
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
    "心里": "心裡",
    "沖突": "衝突",
    "規范": "規範",
    "關系": "關係",
    "輕松": "輕鬆",
}
# Every occurrence in the source was checked in context (對于, 趨于, 源于, 處于, 低于, 來源于;
# 材料后, 后續, 處理后, 事后; 并 as 'and'): none is a legitimate Traditional use.
CHARACTERS = {"并": "並", "后": "後", "于": "於"}
PUNCTUATION = str.maketrans({",": "，", ":": "：", ";": "；"})

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
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def site() -> dict:
    with (ROOT / "site.toml").open("rb") as f:
        return tomllib.load(f)


def pages() -> list[Path]:
    return sorted(CONTENT.rglob("*.md"))


def split_page(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    match = re.match(r"\A---\n(.*?)\n---\n(.*)\Z", text, re.DOTALL)
    assert match, f"{path.relative_to(ROOT)} has no front matter between --- lines"
    return yaml.safe_load(match[1]) or {}, match[2]


def render(path: Path) -> _Text:
    _, body = split_page(path)
    # As in the build: `{#id}` belongs to attr_list, so Jinja comments are `{## … ##}`.
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        comment_start_string="{##",
        comment_end_string="##}",
    )
    source = environment.from_string(body).render(site=site())
    html = markdown.markdown(
        source,
        extensions=["attr_list", "tables", "toc"],
        extension_configs={"toc": {"slugify": slugify}},
    )
    parsed = _Text()
    parsed.feed(html)
    parsed.close()
    return parsed


def plain(text: str) -> str:
    return " ".join(text.split())


def site_text() -> str:
    """All page titles (the build shows them as headings) and all rendered page text."""
    texts = []
    for path in pages():
        meta, _ = split_page(path)
        texts.append(str(meta.get("title", "")))
        texts.append("".join(render(path).parts))
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
    values += [department["phone"] for department in facts["government"]]
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
            if parts.scheme in {"http", "https", "mailto"}:
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
