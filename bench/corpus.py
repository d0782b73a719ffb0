"""A deterministic corpus of Chinese Markdown pages, laid out for build.py, MkDocs, Pelican, Hugo.

Every page is 600-1,500 characters of Traditional Chinese with headings (two or more with stable
anchors {#sec-N}), bulleted and numbered lists, emphasis and links to other pages (some to an
anchor). The pages sit in ten sections: the home page and the ten section pages are top-level
(so they make the navigation), the rest are one level down. The same pages, the same links and
the same headings are written in each tool's own dialect:

    build.py   content/sNN/pNNNNN.md, YAML front matter, links to the .md file
    MkDocs     docs/sNN/pNNNNN.md, the same Markdown (MkDocs resolves .md links itself)
    Pelican    content/pages/sNN/pNNNNN.md, 'Title:' metadata, links as {filename}/pages/...
    Hugo       content/sNN/pNNNNN.md (sections: _index.md), links as {{< relref "..." >}}
"""

from __future__ import annotations

import random
import textwrap
from dataclasses import dataclass
from pathlib import Path

SECTIONS = 10
SEED = 7

SUBJECTS = ["管理處", "業主委員會", "保安員", "清潔承辦商", "維修技工", "住戶", "大廈經理",
            "物業管理公司", "停車場管理員", "會所職員", "業主", "樓宇主任"]
VERBS = ["未有處理", "延誤跟進", "重複收取", "沒有通知", "擅自更改", "多次忽略", "拒絕解釋",
         "未按合約提供", "遲遲未修妥", "錯誤記錄"]
OBJECTS = ["升降機故障", "走廊照明", "垃圾收集時間", "停車位分配", "外牆滲水", "管理費單據",
           "維修基金帳目", "會所開放時間", "大堂保安安排", "噪音投訴", "消防通道雜物",
           "水錶讀數", "平台花園保養", "電子門禁系統", "裝修許可申請"]
CLAUSES = ["根據大廈公契第十二條", "按照物業服務合同的約定", "依據上次業主大會的決議",
           "參考去年同期的紀錄", "按照管理處張貼的通告", "根據業主手冊的規定"]
ENDINGS = ["請管理處於七個工作天內書面回覆。", "住戶希望盡快得到改善。",
           "已附上相片及單據作為證據。", "此事已影響多戶居民的日常生活。",
           "如未能解決，業主將向政府部門反映。", "業主委員會將在下次會議跟進。"]
HEADINGS = ["事情經過", "相關規定", "已採取的行動", "住戶的意見", "期望的處理方法",
            "時間表", "證據清單", "後續跟進", "常見問題", "注意事項"]


@dataclass(frozen=True)
class Link:
    target: int  # page number
    anchor: str  # "" or "sec-1"
    text: str


@dataclass(frozen=True)
class PageSpec:
    number: int  # 0 is the home page, 1..SECTIONS the section pages
    title: str
    description: str
    blocks: tuple  # ("h", text, anchor) | ("p", [str | Link]) | ("ul"|"ol", [[str | Link]])

    @property
    def section(self) -> int:
        if self.number == 0:
            return 0
        if self.number <= SECTIONS:
            return self.number
        return (self.number - SECTIONS - 1) % SECTIONS + 1


def sentence(rng: random.Random, *, emphasis: bool = True) -> str:
    subject, verb, obj = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)
    if emphasis and rng.random() < 0.25:
        obj = f"**{obj}**"
    elif emphasis and rng.random() < 0.15:
        verb = f"*{verb}*"
    text = f"{rng.choice(CLAUSES)}，{subject}{verb}{obj}的問題，{rng.choice(ENDINGS)}"
    return text


def body_length(number: int, blocks: list) -> int:
    return len(md_body(PageSpec(number, "", "", tuple(blocks)), relative_md))


def make_specs(n: int, seed: int = SEED) -> list[PageSpec]:
    rng = random.Random(seed * 1_000_003 + n)
    specs = []
    for number in range(n):
        if number == 0:
            title = "首頁"
        elif number <= SECTIONS:
            title = f"第{number}部分 {OBJECTS[number % len(OBJECTS)]}"
        else:
            title = f"{rng.choice(OBJECTS)}個案{number:05d}"
        target_len = rng.randint(600, 1300)
        blocks, section = [], 0

        while body_length(number, blocks) < target_len or section < 2:
            section += 1
            blocks.append(("h", f"{rng.choice(HEADINGS)}（{section}）", f"sec-{section}"))
            for _ in range(rng.randint(1, 2)):
                parts = [sentence(rng) for _ in range(rng.randint(1, 3))]
                if rng.random() < 0.6 and n > 1:
                    other = rng.randrange(n)
                    parts.append(Link(other, rng.choice(["", "", "sec-1", "sec-2"]),
                                      f"參閱個案{other:05d}"))
                    parts.append("。")
                blocks.append(("p", parts))
            if rng.random() < 0.7:
                items = []
                for _ in range(rng.randint(2, 4)):
                    item = [sentence(rng, emphasis=rng.random() < 0.5)]
                    if rng.random() < 0.2 and n > 1:
                        other = rng.randrange(n)
                        item.append(Link(other, "", f"個案{other:05d}"))
                    items.append(item)
                blocks.append((rng.choice(["ul", "ol"]), items))
        while body_length(number, blocks) > 1500:
            blocks.pop()
        specs.append(PageSpec(number, title, f"{title}的處理指引。", tuple(blocks)))
    return specs


def rel_source(number: int) -> str:
    """The page's path below the content root, e.g. 's03/p00042.md'."""
    if number == 0:
        return "index.md"
    if number <= SECTIONS:
        return f"s{number:02d}/index.md"
    section = (number - SECTIONS - 1) % SECTIONS + 1
    return f"s{section:02d}/p{number:05d}.md"


def md_body(spec: PageSpec, link) -> str:
    out = []
    for block in spec.blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"## {block[1]} {{#{block[2]}}}\n")
        elif kind == "p":
            out.append("".join(p if isinstance(p, str) else link(spec, p) for p in block[1])
                       + "\n")
        else:
            lines = []
            for i, item in enumerate(block[1], 1):
                marker = "-" if kind == "ul" else f"{i}."
                text = "".join(p if isinstance(p, str) else link(spec, p) for p in item)
                lines.append(f"{marker} {text}")
            out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def relative_md(spec: PageSpec, link: Link) -> str:
    here = Path(rel_source(spec.number)).parent
    there = Path(rel_source(link.target))
    depth = len(here.parts)
    target = "../" * depth + there.as_posix()
    if link.target == spec.number:
        target = there.name
    return f"[{link.text}]({target}{'#' + link.anchor if link.anchor else ''})"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


SITE_TOML = textwrap.dedent("""\
    base_url = "https://bench.example.org"
    app_paths = ["/complaint", "/follow-up"]
    [estate]
    name = "測試花園"
    [office]
    name = "物業管理處"
    address = "測試花園第 1 座地下"
    phone = "2345 6789"
    email = "office@example.org"
    hours = "星期一至星期五 09:00–18:00"
    [committee]
    name = "業主委員會"
    address = "測試花園會所"
    phone = "2345 6790"
    email = "committee@example.org"
    hours = "每月第一個星期六"
    """)


def write_buildpy(specs: list[PageSpec], root: Path) -> Path:
    """content/ + site.toml for build.py; returns the content folder."""
    for spec in specs:
        front = (f"---\ntitle: {spec.title}\ndescription: {spec.description}\n"
                 f"order: {spec.number}\n---\n")
        write(root / "content" / rel_source(spec.number), front + md_body(spec, relative_md))
    write(root / "site.toml", SITE_TOML)
    return root / "content"


def write_mkdocs(specs: list[PageSpec], root: Path) -> Path:
    """docs/ + mkdocs.yml; the navigation lists only the top-level pages, as build.py's does."""
    for spec in specs:
        write(root / "docs" / rel_source(spec.number),
              f"# {spec.title}\n\n{spec.description}\n\n" + md_body(spec, relative_md))
    nav = "\n".join(f"  - '{s.title}': {rel_source(s.number)}" for s in specs[: SECTIONS + 1])
    write(root / "mkdocs.yml", textwrap.dedent("""\
        site_name: 測試花園業主投訴指引
        site_url: https://bench.example.org/
        theme:
          name: mkdocs
          locale: zh_TW
        plugins: []
        markdown_extensions:
          - toc:
              toc_depth: 2-3
          - tables
          - attr_list
          - sane_lists
          - md_in_html
        validation:
          links:
            not_found: warn
            anchors: warn
        nav:
        """) + nav + "\n")
    return root / "mkdocs.yml"


def write_pelican(specs: list[PageSpec], root: Path) -> Path:
    """content/pages/ + pelicanconf.py: pages (no dated articles), menu = top-level pages."""

    def link(spec: PageSpec, target: Link) -> str:
        anchor = "#" + target.anchor if target.anchor else ""
        return f"[{target.text}]({{filename}}/pages/{rel_source(target.target)}{anchor})"

    def slug_of(number: int) -> str:
        return rel_source(number).removesuffix(".md").replace("/", "-")

    for spec in specs:
        slug = slug_of(spec.number)
        head = (f"Title: {spec.title}\nSlug: {slug}\nSummary: {spec.description}\n"
                f"Sortorder: {spec.number}\n\n")
        write(root / "content" / "pages" / rel_source(spec.number), head + md_body(spec, link))
    menu = ", ".join(f"({s.title!r}, '/{slug_of(s.number)}/')" for s in specs[: SECTIONS + 1])
    write(root / "pelicanconf.py", textwrap.dedent(f"""\
        AUTHOR = "bench"
        SITENAME = "測試花園業主投訴指引"
        SITEURL = ""
        PATH = "content"
        TIMEZONE = "Asia/Hong_Kong"
        DEFAULT_LANG = "zh"
        PAGE_PATHS = ["pages"]
        ARTICLE_PATHS = []
        PAGE_URL = "{{slug}}/"
        PAGE_SAVE_AS = "{{slug}}/index.html"
        DISPLAY_PAGES_ON_MENU = False
        DISPLAY_CATEGORIES_ON_MENU = False
        MENUITEMS = [{menu}]
        FEED_ALL_ATOM = None
        CATEGORY_FEED_ATOM = None
        TRANSLATION_FEED_ATOM = None
        AUTHOR_FEED_ATOM = None
        AUTHOR_FEED_RSS = None
        DIRECT_TEMPLATES = ["index"]
        CACHE_CONTENT = False
        LOAD_CONTENT_CACHE = False
        MARKDOWN = {{
            "extension_configs": {{
                "markdown.extensions.toc": {{"toc_depth": "2-3"}},
                "markdown.extensions.tables": {{}},
                "markdown.extensions.attr_list": {{}},
                "markdown.extensions.sane_lists": {{}},
                "markdown.extensions.md_in_html": {{}},
                "markdown.extensions.meta": {{}},
            }},
            "output_format": "html5",
        }}
        """))
    return root / "pelicanconf.py"


def write_hugo(specs: list[PageSpec], root: Path) -> Path:
    """content/ + layouts/ + hugo.toml: one single and one list layout, menu = top-level pages."""

    def link(spec: PageSpec, target: Link) -> str:
        anchor = "#" + target.anchor if target.anchor else ""
        ref = "/" + rel_source(target.target).replace("index.md", "_index.md")
        return f'[{target.text}]({{{{< relref "{ref}{anchor}" >}}}})'

    for spec in specs:
        path = rel_source(spec.number).replace("index.md", "_index.md")
        menu = "menu: main\n" if spec.number <= SECTIONS else ""
        front = (f"---\ntitle: {spec.title}\ndescription: {spec.description}\n"
                 f"weight: {spec.number}\n{menu}---\n")
        write(root / "content" / path, front + md_body(spec, link))
    layout = textwrap.dedent("""\
        <!doctype html>
        <html lang="zh-Hant"><head><meta charset="utf-8">
        <title>{{ .Title }}｜{{ .Site.Title }}</title>
        <meta name="description" content="{{ .Description }}"></head>
        <body><nav><ul>{{ range .Site.Menus.main }}<li><a href="{{ .URL }}">{{ .Name }}</a></li>{{ end }}</ul></nav>
        <main><h1>{{ .Title }}</h1><p>{{ .Description }}</p>{{ .TableOfContents }}{{ .Content }}</main>
        </body></html>
        """)  # noqa: E501
    write(root / "layouts" / "_default" / "single.html", layout)
    write(root / "layouts" / "_default" / "list.html", layout)
    write(root / "hugo.toml", textwrap.dedent("""\
        baseURL = "https://bench.example.org/"
        title = "測試花園業主投訴指引"
        languageCode = "zh-Hant"
        hasCJKLanguage = true
        disableKinds = ["taxonomy", "term", "RSS"]
        [markup.tableOfContents]
        startLevel = 2
        endLevel = 3
        """))
    return root / "hugo.toml"


def write_floor(specs: list[PageSpec], root: Path) -> Path:
    """The floor reads the same files build.py reads."""
    return write_buildpy(specs, root)
