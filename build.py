"""Build the guidance site: Markdown pages in content/ through templates/ into site/.

    python build.py                      # content/ + templates/ -> site/
    python build.py --strict             # the same, but fail while a placeholder is left
    python build.py --clean              # rebuild everything from scratch
    python build.py --watch --serve      # rebuild on save, preview on http://127.0.0.1:8000

build() is the recipe: gather every page (front matter, fingerprints) with the site's facts and
its region preset; render the pages that changed into a staging folder; check every link; move
the new files into place, so a failed build leaves the previous site untouched; write the
sitemap, robots.txt and the hashed assets; then write site.json, the documented contract the form
server reads (docs/site-contract.md), and .build-manifest.json, the build's private cache.

The form server imports to_simplified() from this file the way the tests load it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import os
import posixpath
import re
import secrets
import shutil
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import markdown
import opencc
import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

ROOT = Path(__file__).resolve().parent
REGIONS = ROOT / "regions"  # the region presets and the Simplified phrase table
PHRASES = REGIONS / "simplified-phrases.toml"
MANIFEST = ".build-manifest.json"  # private: the build's cache, any shape it likes
CONTRACT = "site.json"  # public: what the form server reads, docs/site-contract.md
CONTRACT_VERSION = 1
BUILD_VERSION = "3"  # bump when a change here alters the output of unchanged pages
SIMPLIFIED_PREFIX = "/zh-hans"
EDITIONS = {  # edition key -> (html lang, url prefix)
    "hant": ("zh-Hant", ""),
    "hans": ("zh-Hans", SIMPLIFIED_PREFIX),
}
PLACEHOLDERS = ("〔示例〕", "〔待核實〕")  # an example to replace; a fact not yet verified
PROBLEMS = ("building-management", "water-seepage", "lifts", "fees", "consumer", "noise",
            "emergency")
SOURCE_LABEL = "原文"  # the visible label of a block of the source author's text
# Text inside an element marked lang="zh-Hant" (the language switch) is never converted.
KEEP_TRADITIONAL = re.compile(r'(<(\w+)[^>]*\slang="zh-Hant"[^>]*>.*?</\2>)', re.S)
ROOT_HREF = re.compile(r'(\shref=")/(?!/)')
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
PHONE = re.compile(r"\+?[\d ()-]+")
PARALLEL_THRESHOLD = 40  # below this many changed pages a process pool costs more than it saves
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BuildError(Exception):
    """A problem in the sources that the maintainer must fix; the message says where and how."""


@dataclass(frozen=True)
class Site:
    config: dict  # site.toml
    region: dict  # the region preset with site.toml's overrides applied
    pages: tuple[PageInfo, ...]
    assets: dict[str, str]  # "style.css" -> "static/style.1a2b3c4d.css"
    phrases: Path  # the Simplified phrase table
    fingerprint: str
    placeholders: tuple[str, ...] = ()  # "site.toml: office.phone = 〔示例〕2345 6789", ...

    @cached_property
    def nav(self) -> list[PageInfo]:
        return [p for p in self.pages if p.in_nav]

    @cached_property
    def by_url(self) -> dict[str, PageInfo]:
        return {p.url: p for p in self.pages}

@dataclass(frozen=True)
class PageInfo:
    """What every page needs to know about every other page: gathered before rendering."""

    source: str  # path relative to the content folder, with forward slashes
    url: str  # "/", "/process/", "/staff/reception/", "/404.html"
    meta: dict
    digest: str  # of the source bytes

    @property
    def title(self) -> str:
        return self.meta["title"]

    @property
    def order(self) -> int:
        return int(self.meta.get("order", 100))

    @property
    def in_nav(self) -> bool:
        top_level = self.url == "/" or self.url.count("/") == 2
        return top_level and self.meta.get("nav", True) and self.url != "/404.html"

    @property
    def in_sitemap(self) -> bool:
        return self.url != "/404.html" and self.meta.get("sitemap", True)


@dataclass(frozen=True)
class Page:
    """One page rendered from Markdown, before the layout is applied."""

    info: PageInfo
    body_html: str
    toc: list
    anchors: frozenset[str]
    links: tuple[tuple[str, int], ...]  # (link target as written, line in the source)


@dataclass
class BuildResult:
    written: list[Path] = field(default_factory=list)
    skipped: int = 0
    removed: list[Path] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # what --strict would refuse


# --- gathering -------------------------------------------------------------------------------


def find_pages(content_dir: Path) -> list[Path]:
    return sorted(p for p in content_dir.rglob("*.md") if not p.name.startswith(("_", ".")))


def url_for(source: str) -> str:
    if source == "404.md":
        return "/404.html"
    stem = source.removesuffix(".md")
    if stem == "index":
        return "/"
    return "/" + stem.removesuffix("/index") + "/"


def split_front_matter(text: str, source: str) -> tuple[dict, str, int]:
    """Return (meta, body, line number where the body starts)."""
    if not text.startswith("---\n"):
        raise BuildError(f"{source}:1: no front matter: start the file with a '---' line, "
                         "then 'title: …', 'description: …', 'order: …', then '---'")
    end = text.find("\n---\n", 3)
    if end < 0:
        raise BuildError(f"{source}:1: front matter is not closed: add a '---' line after it")
    try:
        meta = yaml.load(text[4:end], Loader=SafeLoader) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(error, "problem", None) or str(error)
        raise BuildError(f"{source}:{line}: front matter does not parse ({problem}); "
                         "write it as 'key: value' lines") from None
    if not isinstance(meta, dict):
        raise BuildError(f"{source}:2: front matter must be 'key: value' lines")
    if not str(meta.get("title") or "").strip():
        raise BuildError(f"{source}:2: the page has no title: add 'title: …' to its front matter")
    body_start = text[: end + 5].count("\n") + 1
    return meta, text[end + 5 :], body_start


def read_toml(path: Path, what: str) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise BuildError(f"{path.name}: {what} is missing") from None
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path.name}: does not parse: {error}") from None


def read_config(path: Path) -> dict:
    return read_toml(path, "the site configuration file")


def merge(base: dict, overrides: dict) -> dict:
    """base with overrides applied: tables merge key by key; any other value replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_region(config: dict, regions_dir: Path) -> dict:
    """The preset named by site.toml's `region` (HK when absent), with its [region_overrides]."""
    code = config.get("region", "HK")
    known = sorted(p.stem for p in regions_dir.glob("*.toml") if re.fullmatch(r"[A-Z]{2}", p.stem))
    if code not in known:
        raise BuildError(f"site.toml: region = {code!r}: there is no such preset; use one of "
                         f"{', '.join(known)} (files in {regions_dir.name}/)")
    overrides = config.get("region_overrides", {})
    if not isinstance(overrides, dict):
        raise BuildError("site.toml: region_overrides must be a table, e.g. "
                         "[region_overrides.bodies.district-office]")
    region = merge(read_toml(regions_dir / f"{code}.toml", "the region preset"), overrides)
    check_region(region, f"{regions_dir.name}/{code}.toml" + (" with site.toml's region_overrides"
                                                               if overrides else ""))
    region["emergency_numbers"] = [{"number": region["bodies"][key]["phone"],
                                    "for": region["bodies"][key]["short"]}
                                   for key in region["emergency"]]
    return region


BODY_FIELDS = {"name": True, "handles": True, "phone": True, "source": True, "checked": True,
               "short": False, "web": False, "timeline": False}  # field -> required


def region_problems(region: dict) -> Iterator[str]:
    """Everything wrong with a region preset, each as 'key: what to write instead'."""
    texts = ["code", "name", "privacy_law", "owners_body.name", "owners_body.committee",
             "words.lift", "form.phone_example", "form.unit_example"]
    for key in texts:
        table, _, name = key.rpartition(".")
        if not isinstance((region.get(table, {}) if table else region).get(name), str):
            yield f"{key}: write it as text"
    bodies = region.get("bodies", {})
    for key, body in bodies.items():
        yield from body_problems(key, body)
    yield from channel_problems(region.get("channels", {}), bodies)
    emergency = region.get("emergency")
    if not emergency or any(bodies.get(key, {}).get("short") is None for key in emergency):
        yield "emergency: list the emergency numbers' bodies, each with a `short` description"


def body_problems(key: str, body: dict) -> Iterator[str]:
    for name, required in BODY_FIELDS.items():
        if (required and name not in body) or not isinstance(body.get(name, ""), str):
            yield f"bodies.{key}.{name}: write it as text"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(body.get("checked", ""))):
        yield f"bodies.{key}.checked: the date the entry was checked, e.g. \"2026-12-01\""
    phone = body.get("phone", "")
    if isinstance(phone, str) and not placeholder_in(phone) and not PHONE.fullmatch(phone):
        yield (f"bodies.{key}.phone = {phone!r}: write the number only (digits, spaces, "
               "+ - ( )); say more in handles")


def channel_problems(channels: dict, bodies: dict) -> Iterator[str]:
    if list(channels) != list(PROBLEMS):
        yield f"channels: need exactly these problems, in this order: {', '.join(PROBLEMS)}"
    for problem, channel in channels.items():
        if not isinstance(channel.get("title"), str):
            yield f"channels.{problem}.title: write it as text"
        if not channel.get("bodies"):
            yield f"channels.{problem}.bodies: name at least one body"
        for n, entry in enumerate(channel.get("bodies", [])):
            if entry.get("id") not in bodies:
                yield f"channels.{problem}.bodies.{n}.id = {entry.get('id')!r}: no such body"
            if not isinstance(entry.get("when"), str):
                yield f"channels.{problem}.bodies.{n}.when: say when to go there"


def check_region(region: dict, where: str) -> None:
    problems = list(region_problems(region))
    if problems:
        raise BuildError(f"{where}: the region preset is incomplete:\n  " + "\n  ".join(problems))


# --- placeholders ----------------------------------------------------------------------------


def placeholder_in(value: str) -> bool:
    return any(marker in value for marker in PLACEHOLDERS)


def placeholder_values(value, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(dotted key, value) for every string holding a placeholder, at any depth."""
    if isinstance(value, str):
        if placeholder_in(value):
            yield ".".join(path), value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from placeholder_values(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from placeholder_values(item, (*path, str(index)))


def has_key(table: dict, dotted: str) -> bool:
    for key in dotted.split("."):
        if not isinstance(table, dict) or key not in table:
            return False
        table = table[key]
    return True


def find_placeholders(config: dict, config_name: str, region: dict) -> list[str]:
    """Each placeholder in the site's facts and its region, named by the file and key to edit."""
    found = [f"{config_name}: {key} = {value}" for key, value in placeholder_values(config)
             if not key.startswith("region_overrides.")]
    overrides = config.get("region_overrides", {})
    for key, value in placeholder_values(region):
        if has_key(overrides, key):
            found.append(f"{config_name}: region_overrides.{key} = {value}")
        elif not key.startswith("emergency_numbers."):
            found.append(f"{REGIONS.name}/{region['code']}.toml: {key} = {value}")
    return found


def placeholder_lines(text: str, source: str) -> list[str]:
    return [f"{source}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1) if placeholder_in(line)]


def hash_tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def plan_assets(static_dir: Path) -> dict[str, str]:
    """Give every static file a content-hashed name so it can be cached for ever."""
    assets = {}
    if static_dir.is_dir():
        for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
            name = path.relative_to(static_dir).as_posix()
            short = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, ext = name.rpartition(".")
            hashed = f"{stem}.{short}.{ext}" if dot else f"{name}.{short}"
            assets[name] = f"static/{hashed}"
    return assets


def gather(content_dir: Path, templates_dir: Path, config_path: Path, static_dir: Path,
           regions_dir: Path, cache: dict) -> Site:
    config = read_config(config_path)
    region = read_region(config, regions_dir)
    placeholders = find_placeholders(config, config_path.name, region)
    infos = []
    for path in find_pages(content_dir):
        source = path.relative_to(content_dir).as_posix()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        cached = cache.get(source)
        text = None
        if not (cached and cached["digest"] == digest) or "〔".encode() in data:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise BuildError(f"{source}: is not UTF-8 text ({error.reason}); "
                                 "save it as UTF-8") from None
            placeholders += placeholder_lines(text, source)
        meta = cached["meta"] if cached and cached["digest"] == digest else \
            split_front_matter(text, source)[0]
        infos.append(PageInfo(source, url_for(source), meta, digest))
    if not infos:
        raise BuildError(f"{content_dir}: has no Markdown pages")
    infos.sort(key=lambda p: (p.order, p.url))
    assets = plan_assets(static_dir)
    phrases = regions_dir / PHRASES.name
    shared = json.dumps(
        [BUILD_VERSION, config, region, assets, hash_tree(templates_dir),
         hashlib.sha256(phrases.read_bytes()).hexdigest() if phrases.is_file() else "",
         [(p.url, p.meta) for p in infos]],
        sort_keys=True, ensure_ascii=False, default=str,
    )
    return Site(config, region, tuple(infos), assets, phrases,
                hashlib.sha256(shared.encode()).hexdigest(), tuple(placeholders))


# --- rendering -------------------------------------------------------------------------------


def relpath(path: str, start: str) -> str:
    """posixpath.relpath for the clean absolute URLs of a site, without its normalising."""
    for url in (path, start):
        if not url.startswith("/") or "/." in url or "//" in url:
            return posixpath.relpath(path, start)
    to, here = [p for p in path.split("/") if p], [p for p in start.split("/") if p]
    common = 0
    for a, b in zip(to, here, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + to[common:]) or "."


def relative_url(from_url: str, to_url: str) -> str:
    """A link from one page to another that works under any base path and from file://."""
    path, hash_, anchor = to_url.partition("#")
    from_dir = from_url if from_url.endswith("/") else posixpath.dirname(from_url) + "/"
    rel = relpath(path, from_dir) if path else ""
    if path.endswith("/") and rel not in ("", "."):
        rel += "/"
    if rel == ".":
        rel = "./"
    return rel + hash_ + anchor


class LinkRewriter(Treeprocessor):
    """Rewrite links to sibling .md files into clean URLs and note every link for checking."""

    def __init__(self, md, page_source: str, page_url: str, base_url: str):
        super().__init__(md)
        self.page_source = page_source
        self.page_url = page_url
        self.base_url = base_url.rstrip("/")
        self.found: list[str] = []

    def run(self, root):
        for element in root.iter():
            attr = {"a": "href", "img": "src"}.get(element.tag)
            target = element.get(attr) if attr else None
            if not target or EXTERNAL.match(target):
                continue
            self.found.append(target)
            path, hash_, anchor = target.partition("#")
            if path.endswith(".md"):
                here = posixpath.dirname(self.page_source)
                source = posixpath.normpath(posixpath.join(here, path))
                to = url_for(source) + hash_ + anchor
                absolute = self.page_url == "/404.html"  # served at any depth
                element.set(attr, to if absolute else relative_url(self.page_url, to))
                element.set("data-print", self.base_url + to)  # the address printed on paper
            elif path.startswith("/") and element.tag == "a":
                element.set("data-print", self.base_url + target)


class SourceLabels(Treeprocessor):
    """Give every block of the source author's text (<div class="source">) its visible label."""

    def run(self, root):
        blocks = [e for e in root.iter("div") if "source" in (e.get("class") or "").split()]
        for block in blocks:
            label = ET.Element("p", {"class": "source-label"})
            label.text = SOURCE_LABEL
            block.insert(0, label)


def make_content_env(site: Site, templates_dir: Path) -> Environment:
    # Page bodies may use {{ site.office.phone }}, {{ region.name }} and the templates' partials
    # ({% include "_emergency.html" %}); '{#id}' belongs to attr_list, not Jinja.
    env = Environment(loader=FileSystemLoader(templates_dir), undefined=StrictUndefined,
                      autoescape=False, comment_start_string="{##", comment_end_string="##}")
    env.globals.update(site=site.config, region=site.region)
    return env


def make_markdown() -> markdown.Markdown:
    md = markdown.Markdown(
        extensions=["toc", "tables", "attr_list", "sane_lists", "md_in_html"],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}},
        output_format="html",
    )
    md.treeprocessors.register(SourceLabels(md), "source_labels", 2)
    return md


# Markdown tries each of its inline patterns on every run of text. A pattern whose opening
# characters occur nowhere in a page can never match there, so leaving it out for that page
# changes nothing but the time (about a third of the conversion for plain Chinese prose).
# Tabs and carriage returns become spaces and newlines before the patterns run.
INLINE_TRIGGERS = {
    "backtick": ("`",), "escape": ("\\",),
    "reference": ("[",), "link": ("[",), "short_reference": ("[",),
    "image_link": ("![",), "image_reference": ("![",), "short_image_ref": ("![",),
    "autolink": ("<",), "automail": ("<",), "html": ("<",), "entity": ("&",),
    "linebreak": ("  \n", "\t", "\r"), "em_strong": ("*", "_"),
}


def inline_patterns(md: markdown.Markdown, body: str) -> list:
    """The inline patterns, in priority order, that could match somewhere in body."""
    names = {id(md.inlinePatterns[name]): name for name in INLINE_TRIGGERS
             if name in md.inlinePatterns}
    wanted = []
    for pattern in md.inlinePatterns:  # a Registry iterates in priority order
        triggers = INLINE_TRIGGERS.get(names.get(id(pattern)))
        if triggers is None or any(t in body for t in triggers):
            wanted.append(pattern)
    return wanted


def body_of(text: str) -> tuple[str, int]:
    """The Markdown after the front matter (which gather() has checked), and its first line."""
    end = text.find("\n---\n", 3)
    return text[end + 5 :], text[: end + 5].count("\n") + 1


def read_page(info: PageInfo, content_dir: Path, content_env: Environment,
              md: markdown.Markdown, base_url: str = "") -> Page:
    text = (content_dir / info.source).read_text("utf-8")
    if text.startswith("---\n") and "\n---\n" in text:
        body, body_line = body_of(text)
    else:  # changed since gather(): let split_front_matter say what is wrong
        _, body, body_line = split_front_matter(text, info.source)
    if "{{" in body or "{%" in body:
        body = render_body_template(content_env, body, body_line, info.source)
    md.reset()
    rewriter = LinkRewriter(md, info.source, info.url, base_url)
    md.treeprocessors.register(rewriter, "link_rewriter", 1)
    md.treeprocessors["inline"].inlinePatterns = inline_patterns(md, body)
    try:
        body_html = md.convert(body)
    finally:
        md.treeprocessors.deregister("link_rewriter")
        md.treeprocessors["inline"].inlinePatterns = md.inlinePatterns
    lines = text.splitlines()
    links = tuple((target, line_of(lines, target)) for target in rewriter.found)
    anchors = frozenset(re.findall(r'\sid="([^"]+)"', body_html))
    return Page(info, body_html, md.toc_tokens, anchors, links)


def render_body_template(content_env: Environment, body: str, body_line: int, source: str) -> str:
    try:
        return content_env.from_string(body).render()
    except TemplateError as error:
        partial, lineno = template_location(error)
        where = f"{partial}:{lineno}" if partial else f"{source}:{body_line + lineno - 1}"
        raise BuildError(f"{where}: {error} (in {source}); estate facts are written like "
                         "{{ site.office.phone }} with keys from site.toml, the region's like "
                         "{{ region.name }}") from None


def template_location(error: TemplateError) -> tuple[str | None, int]:
    """(partial's file name or None for the page itself, line) where a template failed: from
    the error for a syntax error, else from the traceback's last template frame."""
    if getattr(error, "lineno", None):
        name = getattr(error, "filename", None)
        return (None if name in (None, "<template>") else name), error.lineno
    frame, location = error.__traceback__, (None, 1)
    while frame:
        name = frame.tb_frame.f_code.co_filename
        if name == "<template>" or name.endswith(".html"):
            location = (None if name == "<template>" else Path(name).name), frame.tb_lineno
        frame = frame.tb_next
    return location


def line_of(lines: list[str], target: str) -> int:
    for number, line in enumerate(lines, 1):
        if f"({target}" in line or f'"{target}"' in line:
            return number
    return 1


def breadcrumbs(info: PageInfo, site: Site) -> list[PageInfo]:
    """Ancestors of a page below the top level, e.g. 首頁 › 管理處員工指引."""
    by_url = site.by_url
    trail, url = [], info.url
    while url.count("/") > 2:
        url = url.rsplit("/", 2)[0] + "/"
        if url in by_url:
            trail.insert(0, by_url[url])
    if trail:
        trail.insert(0, by_url.get("/"))
    return [p for p in trail if p]


def make_env(templates_dir: Path) -> Environment:
    env = Environment(loader=FileSystemLoader(templates_dir), autoescape=select_autoescape(),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def render_page(env: Environment, page: Page, site: Site, edition: str) -> str:
    lang, prefix = EDITIONS[edition]
    info = page.info
    absolute = info.url == "/404.html"  # served at any depth, so links must be absolute
    here = prefix + info.url

    def link(url: str) -> str:
        return url if absolute else relative_url(here, url)

    base_url = site.config.get("base_url", "").rstrip("/")
    html = env.get_template(info.meta.get("template", "page.html")).render(
        site=site.config,
        region=site.region,
        page=info,
        body=edition_links(page.body_html, prefix, base_url),
        toc=page.toc if show_toc(page) else [],
        nav=site.nav,
        breadcrumbs=breadcrumbs(info, site),
        lang=lang,
        edition=edition,
        prefix=prefix,
        link=link,
        page_link=lambda p: link(prefix + p.url),
        asset=lambda name: link("/" + site.assets[name]),
        alternates={
            "zh-Hant": base_url + info.url,
            "zh-Hans": base_url + SIMPLIFIED_PREFIX + info.url,
        },
        other_edition=link(("" if prefix else SIMPLIFIED_PREFIX) + info.url),
        canonical=base_url + here,
    )
    return to_simplified(html, site.phrases) if edition == "hans" else html


def edition_links(body_html: str, prefix: str, base_url: str) -> str:
    """A page body's links for one edition: root-relative ones (the form's /complaint, every
    link on the 404 page) and the printed addresses get the edition's prefix."""
    if not prefix:
        return body_html
    body_html = ROOT_HREF.sub(rf"\g<1>{prefix}/", body_html)
    return body_html.replace(f'data-print="{base_url}/', f'data-print="{base_url}{prefix}/')


def show_toc(page: Page) -> bool:
    """Long pages get a table of contents; front matter 'toc: true/false' overrides."""
    wanted = page.info.meta.get("toc")
    if wanted is None:
        return len(page.toc) >= 3
    return bool(wanted) and bool(page.toc)


@functools.cache
def simplifier(phrases: Path):
    """The phrase table (longest first) then OpenCC hk2s, as one function of text."""
    table = read_toml(phrases, "the Simplified phrase table").get("phrases", {})
    converter = opencc.OpenCC("hk2s")
    for traditional, simplified in table.items():
        if converter.convert(simplified) != simplified:
            raise BuildError(f"{phrases.name}: {traditional!r} = {simplified!r}: write the right-"
                             f"hand side in Simplified characters")
    if not table:
        return converter.convert
    pattern = re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True))))
    return lambda text: converter.convert(pattern.sub(lambda m: table[m[0]], text))


def to_simplified(html: str, phrases: Path = PHRASES) -> str:
    """The Simplified edition of a page, or of any text or HTML: the words of the phrase table
    (regions/simplified-phrases.toml), then OpenCC's hk2s for the characters. Elements marked
    lang="zh-Hant" (the language switch) are left in Traditional."""
    convert = simplifier(Path(phrases))
    parts = KEEP_TRADITIONAL.split(html)
    # split() with two groups yields [text, kept, tagname, text, kept, tagname, ...]
    return "".join(convert(part) if index % 3 == 0 else part
                   for index, part in enumerate(parts) if index % 3 != 2)


def output_path(out_dir: Path, url: str) -> Path:
    relative = url.lstrip("/")
    if not relative or relative.endswith("/"):
        relative += "index.html"
    return out_dir / relative


# --- the parallel part: everything a worker process does for one page -----------------------

_worker: dict = {}


def _start_worker(content_dir: Path, templates_dir: Path, site: Site, staging: Path) -> None:
    _worker.update(content_dir=content_dir, env=make_env(templates_dir), site=site,
                   content_env=make_content_env(site, templates_dir), staging=staging,
                   md=make_markdown())


def _build_one(info: PageInfo) -> dict:
    """Render one page in both editions into the staging folder; return what checking needs."""
    w = _worker
    site = w["site"]
    page = read_page(info, w["content_dir"], w["content_env"], w["md"],
                     site.config.get("base_url", ""))
    for edition, (_, prefix) in EDITIONS.items():
        try:
            html = render_page(w["env"], page, site, edition)
        except TemplateError as error:
            where = getattr(error, "filename", None) or "templates"
            raise BuildError(f"{where}:{getattr(error, 'lineno', '?')}: {error} "
                             f"(while rendering {info.source})") from None
        target = output_path(w["staging"], prefix + info.url)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_new(target, html.encode())
    return {"digest": info.digest, "meta": info.meta, "anchors": sorted(page.anchors),
            "links": [list(link) for link in page.links]}


def render_changed(changed: list[PageInfo], content_dir: Path, templates_dir: Path, site: Site,
                   staging: Path, jobs: int) -> dict[str, dict]:
    args = (content_dir, templates_dir, site, staging)
    if jobs <= 1 or len(changed) < PARALLEL_THRESHOLD:
        _start_worker(*args)
        return {info.source: _build_one(info) for info in changed}
    chunk = max(1, len(changed) // (jobs * 8))
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=args) as pool:
        results = pool.map(_build_one, changed, chunksize=chunk)
        return {info.source: result for info, result in zip(changed, results, strict=True)}


# --- checking and writing --------------------------------------------------------------------


def check_links(site: Site, facts: dict[str, dict]) -> None:
    """Fail on a link to a page or an anchor that does not exist, naming file, line and link."""
    app_paths = set(site.config.get("app_paths", []))
    problems = []
    for info in site.pages:
        for target, line in facts[info.source]["links"]:
            problem = link_problem(info, target, site.by_url, app_paths, facts)
            if problem:
                problems.append(f"{info.source}:{line}: link to '{target}': {problem}")
    if problems:
        raise BuildError("broken links:\n  " + "\n  ".join(problems))


def link_problem(info: PageInfo, target: str, by_url: dict[str, PageInfo], app_paths: set[str],
                 facts: dict[str, dict]) -> str | None:
    """What is wrong with one link on a page, or None."""
    path, _, anchor = target.partition("#")
    if path.endswith(".md"):
        source = posixpath.normpath(posixpath.join(posixpath.dirname(info.source), path))
        to = by_url.get(url_for(source))
        if to is None or to.source != source:
            return f"there is no page {source}; link to an existing .md file in content/"
    elif path.startswith("/"):
        if path.split("?")[0] in app_paths:
            return None
        to = by_url.get(path)
        if to is None:
            return "no page has that URL; link to the page's .md file instead"
    elif not path:
        to = info
    else:
        return "link to a page by its .md file (e.g. process.md) or to an #anchor"
    if anchor and anchor not in facts[to.source]["anchors"]:
        return f"{to.source} has no heading or id '{anchor}'"
    return None


def write_sitemap(site: Site) -> str:
    base = site.config.get("base_url", "").rstrip("/")
    urlset = ET.Element("urlset", xmlns="http://www.sitemaps.org/schemas/sitemap/0.9")
    urlset.set("xmlns:xhtml", "http://www.w3.org/1999/xhtml")
    for info in site.pages:
        if not info.in_sitemap:
            continue
        for _, prefix in EDITIONS.values():
            url = ET.SubElement(urlset, "url")
            ET.SubElement(url, "loc").text = base + prefix + info.url
            for lang, other_prefix in EDITIONS.values():
                ET.SubElement(url, "xhtml:link", rel="alternate", hreflang=lang,
                              href=base + other_prefix + info.url)
    ET.indent(urlset)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(urlset, "unicode") + "\n"


def write_robots(site: Site) -> str:
    base = site.config.get("base_url", "").rstrip("/")
    return f"User-agent: *\nAllow: /\nSitemap: {xml_escape(base)}/sitemap.xml\n"


def in_edition(text: str, edition: str, phrases: Path) -> str:
    return to_simplified(text, phrases) if edition == "hans" else text


def site_contract(site: Site) -> dict:
    """What the form server needs from the build; documented in docs/site-contract.md."""
    return {
        "version": CONTRACT_VERSION,
        "base_url": site.config.get("base_url", "").rstrip("/"),
        "region": site.region,
        "editions": {key: {"lang": lang, "prefix": prefix}
                     for key, (lang, prefix) in EDITIONS.items()},
        "assets": {name: "/" + hashed for name, hashed in site.assets.items()},
        "nav": {key: [{"url": prefix + p.url,
                       "title": in_edition(p.meta.get("nav_title") or p.title, key, site.phrases)}
                      for p in site.nav]
                for key, (_, prefix) in EDITIONS.items()},
        "app_paths": list(site.config.get("app_paths", [])),
    }


def contract_files(site: Site) -> dict[str, bytes]:
    return {CONTRACT: (json.dumps(site_contract(site), ensure_ascii=False, indent=2, default=str)
                       + "\n").encode()}


def check_output_dir(out_dir: Path, protected: Iterable[Path]) -> None:
    """Refuse to clean a folder that is, or contains, the sources or the project."""
    out = out_dir.resolve()
    for path in protected:
        path = path.resolve()
        if out == path or out in path.parents:
            raise BuildError(f"refusing to use {out_dir} as the output folder: it is or contains "
                             f"{path}; choose an empty folder such as site/")
    if out == Path(out.anchor) or out == Path.home():
        raise BuildError(f"refusing to use {out_dir} as the output folder")


def make_staging(parent: Path) -> Path:
    """A new folder beside the site, made like the site's own folder (same permissions)."""
    while True:
        staging = parent / f".staging-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            return staging
        except FileExistsError:
            continue


def load_manifest(out_dir: Path) -> dict:
    """The last build's cache, or {} when it is missing or of a shape this build does not use."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    pages = manifest.get("pages") if isinstance(manifest, dict) else None
    fresh = (isinstance(pages, dict) and isinstance(manifest.get("outputs"), list)
             and isinstance(manifest.get("fingerprint"), str)
             and all(isinstance(fact, dict) and {"digest", "meta", "anchors", "links"} <= set(fact)
                     for fact in pages.values()))
    return manifest if fresh else {}


def manifest_data(site: Site, facts: dict[str, dict], outputs: list[str]) -> dict:
    return {"fingerprint": site.fingerprint, "outputs": outputs,
            "pages": {source: facts[source] for source in sorted(facts)}}


def write_manifest(out_dir: Path, manifest: dict) -> None:
    write_file(out_dir / MANIFEST,
               json.dumps(manifest, ensure_ascii=False, sort_keys=True, default=str).encode())


def write_new(path: Path, data: bytes) -> None:
    """Write a file that nobody else reads yet (staging): three system calls, not six."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except FileNotFoundError:
        return False


def write_file(path: Path, data: bytes) -> bool:
    """Write only if different, atomically; return whether anything changed."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def page_outputs(pages: Iterable[PageInfo]) -> list[str]:
    """The files of some pages, both editions, relative to the site folder."""
    return sorted(output_path(Path(), prefix + p.url).as_posix()
                  for p in pages for _, prefix in EDITIONS.values())


def changed_pages(site: Site, manifest: dict) -> list[PageInfo]:
    cache = manifest.get("pages", {})
    same_site = manifest.get("fingerprint") == site.fingerprint
    return [p for p in site.pages
            if not (same_site and cache.get(p.source, {}).get("digest") == p.digest)]


def unchanged_facts(site: Site, manifest: dict, changed: list[PageInfo]) -> dict[str, dict]:
    """What the last build found in the pages that are not rendered again (anchors, links)."""
    rendered = {p.source for p in changed}
    return {p.source: manifest["pages"][p.source] for p in site.pages if p.source not in rendered}


def move_into_place(staging: Path, out_dir: Path, staged: list[str], clean: bool) -> list[Path]:
    """Move the staged pages into the site; return the files that changed."""
    if clean and out_dir.exists():
        shutil.rmtree(out_dir)  # check_output_dir() has made sure this is only the site
    if not out_dir.exists():
        # A first or clean build: the staging folder becomes the site in one rename.
        staging.rename(out_dir)
        return [out_dir / name for name in staged]
    written = []
    for name in staged:  # move only what differs; unchanged files keep their dates
        source, target = staging / name, out_dir / name
        if not same_bytes(target, source.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            written.append(target)
    return written


def extra_files(site: Site, static_dir: Path) -> dict[str, bytes]:
    """The sitemap, robots.txt and every static asset under its hashed name."""
    files = {"sitemap.xml": write_sitemap(site).encode(), "robots.txt": write_robots(site).encode()}
    for name, hashed in site.assets.items():
        files[hashed] = (static_dir / name).read_bytes()
    return files


def write_files(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    return [out_dir / name for name, data in files.items() if write_file(out_dir / name, data)]


def remove_stale(out_dir: Path, old: Iterable[str], current: set[str]) -> list[Path]:
    """Delete what the last build wrote and this one does not (a deleted page's files)."""
    removed = []
    for name in sorted(set(old) - current):
        stale = out_dir / name
        if stale.is_file():
            stale.unlink()
            removed.append(stale)
    return removed


def placeholder_report(placeholders: Iterable[str]) -> str:
    return ("placeholders remain; replace each value (for the region preset's, add the key to "
            "site.toml's [region_overrides]):\n  " + "\n  ".join(placeholders))


def build(content_dir: Path, templates_dir: Path, out_dir: Path, *,
          config_path: Path | None = None, static_dir: Path | None = None,
          regions_dir: Path = REGIONS, clean: bool = False, jobs: int | None = None,
          strict: bool = False) -> BuildResult:
    content_dir, templates_dir, out_dir = Path(content_dir), Path(templates_dir), Path(out_dir)
    config_path = Path(config_path or content_dir.parent / "site.toml")
    static_dir = Path(static_dir or templates_dir.parent / "static")
    regions_dir = Path(regions_dir)
    check_output_dir(out_dir, [content_dir, templates_dir, static_dir, config_path.parent,
                               regions_dir])

    # Gather: every page's front matter, the site's facts, its region, what changed.
    manifest = {} if clean else load_manifest(out_dir)
    site = gather(content_dir, templates_dir, config_path, static_dir, regions_dir,
                  manifest.get("pages", {}))
    if strict and site.placeholders:
        raise BuildError(placeholder_report(site.placeholders))
    changed = changed_pages(site, manifest)
    facts = unchanged_facts(site, manifest, changed)
    result = BuildResult(skipped=len(site.pages) - len(changed),
                         placeholders=list(site.placeholders))

    # Render what changed into a staging folder, check every link, move the pages into place.
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = make_staging(out_dir.parent)
    try:
        facts.update(render_changed(changed, content_dir, templates_dir, site, staging,
                                    jobs or os.cpu_count() or 1))
        check_links(site, facts)
        result.written += move_into_place(staging, out_dir, page_outputs(changed), clean)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    # The extras, then the contract (site.json) and the build's own manifest.
    extras = extra_files(site, static_dir)
    result.written += write_files(out_dir, extras)
    contract = contract_files(site)
    result.written += write_files(out_dir, contract)
    outputs = sorted({*page_outputs(site.pages), *extras, *contract})
    result.removed += remove_stale(out_dir, manifest.get("outputs", []), set(outputs))
    write_manifest(out_dir, manifest_data(site, facts, outputs))
    return result


# --- command line ----------------------------------------------------------------------------


def serve(out_dir: Path, port: int) -> None:
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"previewing {out_dir} on http://127.0.0.1:{port}/ (the form needs the form server)")


def watch(paths: list[Path], rebuild) -> None:
    from watchfiles import watch as watch_changes

    print("watching for changes; press Ctrl+C to stop")
    for _ in watch_changes(*[p for p in paths if p.exists()], debounce=50, step=20):
        rebuild()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build the complaint guidance site.")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--templates", type=Path, default=ROOT / "templates")
    parser.add_argument("--static", type=Path, default=None,
                        help="static assets (default: static/ beside the templates)")
    parser.add_argument("--config", type=Path, default=None,
                        help="site configuration (default: site.toml beside the content)")
    parser.add_argument("--regions", type=Path, default=REGIONS,
                        help="region presets and the Simplified phrase table (default: regions/)")
    parser.add_argument("--out", type=Path, default=ROOT / "site")
    parser.add_argument("--clean", action="store_true", help="rebuild every page from scratch")
    parser.add_argument("--strict", action="store_true",
                        help="fail while a 〔示例〕 or 〔待核實〕 placeholder remains")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--watch", action="store_true", help="rebuild whenever a source changes")
    parser.add_argument("--serve", nargs="?", const=8000, type=int, metavar="PORT",
                        help="preview the site on 127.0.0.1 (default port 8000)")
    return parser.parse_args(argv)


def run_once(args: argparse.Namespace, clean: bool) -> bool:
    """One build, reported on the terminal: placeholders as warnings, a failure as its message."""
    try:
        result = build(args.content, args.templates, args.out, config_path=args.config,
                       static_dir=args.static, regions_dir=args.regions, clean=clean,
                       jobs=args.jobs, strict=args.strict)
    except BuildError as error:
        print(f"build failed: {error}", file=sys.stderr)
        return False
    for placeholder in result.placeholders:
        print(f"warning: placeholder left: {placeholder}", file=sys.stderr)
    print(f"built {args.out}: {len(result.written)} files written, "
          f"{result.skipped} pages unchanged, {len(result.removed)} removed")
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ok = run_once(args, args.clean)
    if args.serve:
        serve(args.out, args.serve)
    if args.watch or args.serve:
        sources = [args.content, args.templates, args.static or args.templates.parent / "static",
                   args.config or args.content.parent / "site.toml", args.regions]
        with contextlib.suppress(KeyboardInterrupt):
            watch(sources, lambda: run_once(args, False))
        return 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
