"""Build the guidance site: Markdown pages in content/ through templates/ into site/.

    python build.py                      # content/ + templates/ -> site/
    python build.py --clean              # rebuild everything from scratch
    python build.py --watch --serve      # rebuild on save, preview on http://127.0.0.1:8000

A build runs in phases: gather every page (front matter, fingerprints), render the pages that
changed into a staging folder, check every link, and only then move the new files into place,
so a failed build leaves the previous site untouched.
"""

from __future__ import annotations

import argparse
import contextlib
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
from collections.abc import Iterable
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
MANIFEST = ".build-manifest.json"
BUILD_VERSION = "2"  # bump when a change here alters the output of unchanged pages
SIMPLIFIED_PREFIX = "/zh-hans"
EDITIONS = {  # edition key -> (html lang, url prefix)
    "hant": ("zh-Hant", ""),
    "hans": ("zh-Hans", SIMPLIFIED_PREFIX),
}
# Text inside an element marked lang="zh-Hant" (the language switch) is never converted.
KEEP_TRADITIONAL = re.compile(r'(<(\w+)[^>]*\slang="zh-Hant"[^>]*>.*?</\2>)', re.S)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
PARALLEL_THRESHOLD = 40  # below this many changed pages a process pool costs more than it saves
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BuildError(Exception):
    """A problem in the sources that the maintainer must fix; the message says where and how."""


@dataclass(frozen=True)
class Site:
    config: dict
    pages: tuple[PageInfo, ...]
    assets: dict[str, str]  # "style.css" -> "static/style.1a2b3c4d.css"
    fingerprint: str

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


def read_config(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise BuildError(f"{path.name}: the site configuration file is missing") from None
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path.name}: does not parse: {error}") from None


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
           cache: dict) -> Site:
    config = read_config(config_path)
    infos = []
    for path in find_pages(content_dir):
        source = path.relative_to(content_dir).as_posix()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        cached = cache.get(source)
        if cached and cached["digest"] == digest:
            meta = cached["meta"]
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise BuildError(f"{source}: is not UTF-8 text ({error.reason}); "
                                 "save it as UTF-8") from None
            meta = split_front_matter(text, source)[0]
        infos.append(PageInfo(source, url_for(source), meta, digest))
    if not infos:
        raise BuildError(f"{content_dir}: has no Markdown pages")
    infos.sort(key=lambda p: (p.order, p.url))
    assets = plan_assets(static_dir)
    shared = json.dumps(
        [BUILD_VERSION, config, assets, hash_tree(templates_dir),
         [(p.url, p.meta) for p in infos]],
        sort_keys=True, ensure_ascii=False, default=str,
    )
    return Site(config, tuple(infos), assets, hashlib.sha256(shared.encode()).hexdigest())


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


def make_content_env(config: dict) -> Environment:
    # Page bodies may use {{ site.office.phone }}; '{#id}' belongs to attr_list, not Jinja.
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                      comment_start_string="{##", comment_end_string="##}")
    env.globals["site"] = config
    return env


def make_markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["toc", "tables", "attr_list", "sane_lists", "md_in_html"],
        extension_configs={"toc": {"slugify": slugify_unicode, "toc_depth": "2-3"}},
        output_format="html",
    )


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
    """The inline patterns, in order, that could match somewhere in body."""
    wanted = []
    for item in md.inlinePatterns._priority:  # (name, priority), sorted by priority
        triggers = INLINE_TRIGGERS.get(item.name)
        if triggers is None or any(t in body for t in triggers):
            wanted.append(md.inlinePatterns[item.name])
    return wanted


def body_of(text: str) -> tuple[str, int]:
    """The Markdown after the front matter (which gather() has checked), and its first line."""
    end = text.find("\n---\n", 3)
    return text[end + 5 :], text[: end + 5].count("\n") + 1


def read_page(info: PageInfo, content_dir: Path, config: dict,
              md: markdown.Markdown | None = None) -> Page:
    text = (content_dir / info.source).read_text("utf-8")
    if text.startswith("---\n") and "\n---\n" in text:
        body, body_line = body_of(text)
    else:  # changed since gather(): let split_front_matter say what is wrong
        _, body, body_line = split_front_matter(text, info.source)
    if "{{" in body or "{%" in body:
        try:
            body = make_content_env(config).from_string(body).render()
        except TemplateError as error:
            line = body_line + (getattr(error, "lineno", 1) or 1) - 1
            raise BuildError(f"{info.source}:{line}: {error}; estate facts are written like "
                             "{{ site.office.phone }} with keys from site.toml") from None
    md = md or make_markdown()
    md.reset()
    rewriter = LinkRewriter(md, info.source, info.url, config.get("base_url", ""))
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
        page=info,
        body=page.body_html,
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
    return to_simplified(html) if edition == "hans" else html


def show_toc(page: Page) -> bool:
    """Long pages get a table of contents; front matter 'toc: true/false' overrides."""
    wanted = page.info.meta.get("toc")
    if wanted is None:
        return len(page.toc) >= 3
    return bool(wanted) and bool(page.toc)


_converter = None


def to_simplified(html: str) -> str:
    global _converter
    if _converter is None:
        _converter = opencc.OpenCC("tw2sp")
    parts = KEEP_TRADITIONAL.split(html)
    # split() with two groups yields [text, kept, tagname, text, kept, tagname, ...]
    out = []
    for index, part in enumerate(parts):
        kind = index % 3
        if kind == 0:
            out.append(_converter.convert(part))
        elif kind == 1:
            out.append(part)
    return "".join(out)


def output_path(out_dir: Path, url: str) -> Path:
    relative = url.lstrip("/")
    if not relative or relative.endswith("/"):
        relative += "index.html"
    return out_dir / relative


# --- the parallel part: everything a worker process does for one page -----------------------

_worker: dict = {}


def _start_worker(content_dir: Path, templates_dir: Path, site: Site, staging: Path) -> None:
    _worker.update(content_dir=content_dir, env=make_env(templates_dir), site=site,
                   staging=staging, md=make_markdown())


def _build_one(info: PageInfo) -> dict:
    """Render one page in both editions into the staging folder; return what checking needs."""
    w = _worker
    page = read_page(info, w["content_dir"], w["site"].config, w["md"])
    for edition, (_, prefix) in EDITIONS.items():
        try:
            html = render_page(w["env"], page, w["site"], edition)
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
    by_url = site.by_url
    app_paths = set(site.config.get("app_paths", []))
    problems = []
    for info in site.pages:
        for target, line in facts[info.source]["links"]:
            path, _, anchor = target.partition("#")
            if path.endswith(".md"):
                source = posixpath.normpath(posixpath.join(posixpath.dirname(info.source), path))
                to = by_url.get(url_for(source))
                if to is None or to.source != source:
                    problems.append(f"{info.source}:{line}: link to '{target}': there is no page "
                                    f"{source}; link to an existing .md file in content/")
                    continue
            elif path.startswith("/"):
                if path.split("?")[0] in app_paths:
                    continue
                to = by_url.get(path)
                if to is None:
                    problems.append(f"{info.source}:{line}: link to '{target}': no page has that "
                                    "URL; link to the page's .md file instead")
                    continue
            elif not path:
                to = info
            else:
                problems.append(f"{info.source}:{line}: link to '{target}': link to a page by "
                                "its .md file (e.g. process.md) or to an #anchor")
                continue
            if anchor and anchor not in facts[to.source]["anchors"]:
                problems.append(f"{info.source}:{line}: link to '{target}': {to.source} has no "
                                f"heading or id '{anchor}'")
    if problems:
        raise BuildError("broken links:\n  " + "\n  ".join(problems))


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
    try:
        return json.loads((out_dir / MANIFEST).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


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


def build(content_dir: Path, templates_dir: Path, out_dir: Path, *,
          config_path: Path | None = None, static_dir: Path | None = None,
          clean: bool = False, jobs: int | None = None) -> BuildResult:
    content_dir, templates_dir, out_dir = Path(content_dir), Path(templates_dir), Path(out_dir)
    config_path = Path(config_path or content_dir.parent / "site.toml")
    static_dir = Path(static_dir or templates_dir.parent / "static")
    check_output_dir(out_dir, [content_dir, templates_dir, static_dir, config_path.parent])
    jobs = jobs or os.cpu_count() or 1

    manifest = {} if clean else load_manifest(out_dir)
    cache = manifest.get("pages", {}) if manifest.get("fingerprint") else {}
    site = gather(content_dir, templates_dir, config_path, static_dir, cache)
    same_site = manifest.get("fingerprint") == site.fingerprint
    changed = [p for p in site.pages
               if not (same_site and cache.get(p.source, {}).get("digest") == p.digest)]

    result = BuildResult(skipped=len(site.pages) - len(changed))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = make_staging(out_dir.parent)
    try:
        rendered = {p.source for p in changed}
        facts = {p.source: cache[p.source] for p in site.pages if p.source not in rendered}
        facts.update(render_changed(changed, content_dir, templates_dir, site, staging, jobs))
        check_links(site, facts)
        if clean and out_dir.exists():
            shutil.rmtree(out_dir)
        staged = sorted(output_path(Path(), prefix + p.url)
                        for p in changed for _, prefix in EDITIONS.values())
        if not out_dir.exists():
            # A first or clean build: the staging folder becomes the site in one rename.
            staging.rename(out_dir)
            result.written.extend(out_dir / name for name in staged)
        else:
            for name in staged:  # move only what differs; unchanged files keep their dates
                source, target = staging / name, out_dir / name
                if not same_bytes(target, source.read_bytes()):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(source, target)
                    result.written.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    extras = {"sitemap.xml": write_sitemap(site).encode(),
              "robots.txt": write_robots(site).encode()}
    for name, hashed in site.assets.items():
        extras[hashed] = (static_dir / name).read_bytes()
    for name, data in extras.items():
        if write_file(out_dir / name, data):
            result.written.append(out_dir / name)

    outputs = sorted({output_path(Path(), prefix + p.url).as_posix()
                      for p in site.pages for _, prefix in EDITIONS.values()} | set(extras))
    for old in set(manifest.get("outputs", [])) - set(outputs):
        stale = out_dir / old
        if stale.is_file():
            stale.unlink()
            result.removed.append(stale)
    new_manifest = {"fingerprint": site.fingerprint, "outputs": outputs,
                    "pages": {source: facts[source] for source in sorted(facts)}}
    write_file(out_dir / MANIFEST,
               json.dumps(new_manifest, ensure_ascii=False, sort_keys=True, default=str).encode())
    return result


# --- command line ----------------------------------------------------------------------------


def serve(out_dir: Path, port: int) -> None:
    import functools
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the complaint guidance site.")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--templates", type=Path, default=ROOT / "templates")
    parser.add_argument("--static", type=Path, default=None,
                        help="static assets (default: static/ beside the templates)")
    parser.add_argument("--config", type=Path, default=None,
                        help="site configuration (default: site.toml beside the content)")
    parser.add_argument("--out", type=Path, default=ROOT / "site")
    parser.add_argument("--clean", action="store_true", help="rebuild every page from scratch")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--watch", action="store_true", help="rebuild whenever a source changes")
    parser.add_argument("--serve", nargs="?", const=8000, type=int, metavar="PORT",
                        help="preview the site on 127.0.0.1 (default port 8000)")
    args = parser.parse_args(argv)

    def run(clean: bool) -> bool:
        try:
            result = build(args.content, args.templates, args.out, config_path=args.config,
                           static_dir=args.static, clean=clean, jobs=args.jobs)
        except BuildError as error:
            print(f"build failed: {error}", file=sys.stderr)
            return False
        print(f"built {args.out}: {len(result.written)} files written, "
              f"{result.skipped} pages unchanged, {len(result.removed)} removed")
        return True

    ok = run(args.clean)
    if args.serve:
        serve(args.out, args.serve)
    if args.watch or args.serve:
        static = args.static or args.templates.parent / "static"
        config = args.config or args.content.parent / "site.toml"
        with contextlib.suppress(KeyboardInterrupt):
            watch([args.content, args.templates, static, config], lambda: run(False))
        return 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
