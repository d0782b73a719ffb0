"""The built site as the form server sees it: the shared layout's context (templates/base.html)
read from the build's public contract, site/site.json (docs/site-contract.md), and the embedded
default's serving of site/ itself."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, abort, current_app, redirect, request, send_from_directory
from werkzeug.security import safe_join

from .editions import EDITIONS, edition_of, for_edition, simplified_data
from .privacy.complaint import published_contacts

log = logging.getLogger(__name__)

HASHED_ASSET_AGE = 365 * 86400  # the name changes with the content: cached for ever


def read_contract(site_dir: Path) -> dict:
    """site.json, or an empty contract (home page only, no stylesheet) before the first build."""
    try:
        contract = json.loads((site_dir / "site.json").read_text("utf-8"))
    except (FileNotFoundError, ValueError) as error:
        log.warning("no usable site.json in SITE_DIR (%s): run build.py first; the form's pages "
                    "have no navigation or stylesheet until then", type(error).__name__)
        contract = {}
    contract.setdefault("editions", EDITIONS)
    contract.setdefault("nav", {key: [{"url": edition["prefix"] + "/",
                                       "title": "首頁" if key == "hant" else "首页"}]
                                for key, edition in EDITIONS.items()})
    contract.setdefault("assets", {})
    contract.setdefault("region", {})
    return contract


def page(title: str, description: str = "") -> SimpleNamespace:
    """The page being answered, its title and description in its edition's script."""
    return SimpleNamespace(title=for_edition(title), url=request.path,
                           meta={"description": for_edition(description)})


def layout_context(contract: dict, facts: dict, path: str) -> dict:
    """What base.html needs (docs/site-contract.md, "The shared layout") for a page at path;
    facts holds site.toml and the region, per edition."""
    edition = edition_of(path)
    prefix = contract["editions"][edition]["prefix"]
    other = "hant" if edition == "hans" else "hans"
    bare = path[len(prefix):] if prefix else path
    nav = [SimpleNamespace(url=item["url"], title=item["title"], meta={})
           for item in contract["nav"][edition]]
    return {
        "site": facts[edition]["site"],
        "region": facts[edition]["region"],
        "nav": nav,
        "breadcrumbs": [],
        "lang": contract["editions"][edition]["lang"],
        "edition": edition,
        "prefix": prefix,
        "other_edition": contract["editions"][other]["prefix"] + bare,
        "link": lambda url: url,
        "page_link": lambda item: item.url,
        "asset": lambda name: contract["assets"].get(name, f"/static/{name}"),
    }


def published_numbers() -> tuple[str, ...]:
    """The estate's and the region's published phones and emails, kept by de-identification."""
    return current_app.extensions["published_numbers"]


def init_app(app: Flask) -> None:
    contract = read_contract(Path(app.config["SITE_DIR"]))
    app.extensions["site_contract"] = contract
    facts = {"hant": {"site": app.config["SITE"], "region": contract["region"]}}
    facts["hans"] = simplified_data(facts["hant"])  # the build converts its pages whole
    app.extensions["site_facts"] = facts
    app.extensions["published_numbers"] = published_contacts(app.config["SITE"],
                                                             contract["region"])

    @app.context_processor
    def shared_layout():
        context = layout_context(contract, facts, request.path)
        if not switchable(app):
            context["other_edition"] = ""
        return context


def switchable(app: Flask) -> bool:
    """Can this page be opened again in the other script? Not the answer to a form (the same
    address would show an empty form: the answers typed are in this page alone) nor a page
    shown once (the confirmation with the access code)."""
    view = app.view_functions.get(request.endpoint or "")
    return request.method in ("GET", "HEAD") and not getattr(view, "shown_once", False)


def serve_site(app: Flask) -> None:
    """The embedded default serves the built site too, so one command gives site and form."""
    site_dir = Path(app.config["SITE_DIR"])
    app_paths = {rule.rule for rule in app.url_map.iter_rules()}
    hashed = set(app.extensions["site_contract"]["assets"].values())

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
        if f"/{path}" in hashed:
            response = send_from_directory(site_dir, path, max_age=HASHED_ASSET_AGE)
            response.headers["Cache-Control"] = f"public, max-age={HASHED_ASSET_AGE}, immutable"
            return response
        return send_from_directory(site_dir, path, max_age=300)
