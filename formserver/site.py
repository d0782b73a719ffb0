"""The built site as the form server sees it: the shared layout's context (templates/base.html),
the stylesheet, and the embedded default's serving of site/ itself."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, abort, redirect, request, send_file, send_from_directory
from werkzeug.security import safe_join

from .config import PROJECT_ROOT

STATIC_DIR = PROJECT_ROOT / "static"


def hashed_assets(static_dir: Path) -> dict[str, Path]:
    """The same content-hashed names build.py gives, so nginx can serve site/static/ instead."""
    assets = {}
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        name = path.relative_to(static_dir).as_posix()
        short = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        stem, dot, ext = name.rpartition(".")
        assets[f"{stem}.{short}.{ext}" if dot else f"{name}.{short}"] = path
    return assets


def site_nav(site_dir: Path) -> list[SimpleNamespace]:
    """The site's top-level pages, read from the last build; the home page alone without one."""
    try:
        manifest = json.loads((site_dir / ".build-manifest.json").read_text("utf-8"))
        pages = manifest["pages"]
    except (FileNotFoundError, ValueError, KeyError):
        return [SimpleNamespace(url="/", title="首頁", meta={})]
    nav = []
    for source, facts in pages.items():
        meta = facts["meta"]
        stem = source.removesuffix(".md").removesuffix("index").rstrip("/")
        url = f"/{stem}/" if stem else "/"
        if url.count("/") <= 2 and meta.get("nav", True) and source != "404.md":
            nav.append(SimpleNamespace(url=url, title=meta["title"], meta=meta))
    return sorted(nav, key=lambda p: (int(p.meta.get("order", 100)), p.url))


def page(title: str, description: str = "") -> SimpleNamespace:
    return SimpleNamespace(title=title, url=request.path, meta={"description": description})


def init_app(app: Flask) -> None:
    assets = hashed_assets(STATIC_DIR)
    by_name = {path.relative_to(STATIC_DIR).as_posix(): hashed for hashed, path in assets.items()}
    nav = site_nav(Path(app.config["SITE_DIR"]))

    @app.context_processor
    def layout_context():
        return {
            "site": app.config["SITE"],
            "nav": nav,
            "breadcrumbs": [],
            "lang": "zh-Hant",
            "edition": "hant",
            "prefix": "",
            "other_edition": None,
            "link": lambda url: url,
            "page_link": lambda item: item.url,
            "asset": lambda name: f"/static/{by_name[name]}",
        }

    @app.get("/static/<path:name>")
    def static_asset(name):
        if name not in assets:
            abort(404)
        response = send_file(assets[name], max_age=365 * 86400)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def serve_site(app: Flask) -> None:
    """The embedded default serves the built site too, so one command gives site and form."""
    site_dir = Path(app.config["SITE_DIR"])
    app_paths = {rule.rule for rule in app.url_map.iter_rules()}

    @app.get("/", defaults={"path": ""})
    @app.get("/<path:path>")
    def site_page(path: str):
        if f"/{path}" in app_paths:  # e.g. GET /complaint/send: the app's path, wrong method
            abort(405)
        if path == "" or path.endswith("/"):
            path += "index.html"
        else:
            target = safe_join(str(site_dir), path)
            if target and Path(target).is_dir():
                return redirect(f"/{path}/", 301)
        return send_from_directory(site_dir, path, max_age=300)
