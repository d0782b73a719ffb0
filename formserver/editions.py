"""The two scripts of every page and message the form server writes for residents: Traditional,
and Simplified under /zh-hans/.

The Simplified pages are the Traditional templates converted once, when Jinja loads them, by the
build's own converter (build.py's public to_simplified: the phrase table in regions/, then
OpenCC's hk2s), so the site and the form use the same words. Words that come from Python
(labels, messages, page titles) are converted where they are shown: the `ui` filter in
templates, `for_edition()` in code. What a resident typed, and what the office wrote, are data:
they are never converted. The office's own pages and emails stay in the estate's script
(Traditional)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache, lru_cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, render_template, request
from jinja2 import BaseLoader, Environment

from .workdays import captured_time, written_date, written_time

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "build.py"
EDITIONS = {"hant": {"lang": "zh-Hant", "prefix": ""},
            "hans": {"lang": "zh-Hans", "prefix": "/zh-hans"}}
SIMPLIFIED_PREFIX = EDITIONS["hans"]["prefix"]


def edition_of(path: str) -> str:
    """"hans" for the Simplified pages under /zh-hans/, "hant" for the rest."""
    return "hans" if path == SIMPLIFIED_PREFIX or path.startswith(SIMPLIFIED_PREFIX + "/") \
        else "hant"


def current_edition() -> str:
    """The edition of the page being answered; Traditional outside a request."""
    return edition_of(request.path) if has_request_context() else "hant"


def prefix_of(edition: str) -> str:
    return EDITIONS.get(edition, EDITIONS["hant"])["prefix"]


@cache
def _build_module():
    """build.py, loaded by path (it is a script, and the module name `build` is PyPA's)."""
    if "site_build" not in sys.modules:
        spec = importlib.util.spec_from_file_location("site_build", BUILD_SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["site_build"] = module
        spec.loader.exec_module(module)
    return sys.modules["site_build"]


@lru_cache(maxsize=4096)
def simplified(text: str) -> str:
    """The Simplified form of a Traditional text (cached: the same few strings recur)."""
    return _build_module().to_simplified(text) if text else text


def for_edition(text: str, edition: str | None = None) -> str:
    """Text written in the code (never a resident's) in the script of the edition (by default
    the page's)."""
    edition = edition or current_edition()
    return simplified(text) if edition == "hans" and isinstance(text, str) else text


def simplified_data(value):
    """Facts written in Traditional (site.toml, the region preset): every text in them, in
    dictionaries and lists, converted."""
    if isinstance(value, str):
        return simplified(value)
    if isinstance(value, dict):
        return {key: simplified_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [simplified_data(item) for item in value]
    return value


class SimplifiedLoader(BaseLoader):
    """Another loader's templates, their text converted to Simplified as they are loaded."""

    def __init__(self, loader: BaseLoader):
        self.loader = loader

    def get_source(self, environment, template):
        source, filename, uptodate = self.loader.get_source(environment, template)
        return simplified(source), filename, uptodate

    def list_templates(self):
        return self.loader.list_templates()


def simplified_environment(environment: Environment) -> Environment:
    """A linked environment (same globals and settings) whose templates are converted and whose
    `ui` filter converts what the code gives it."""
    overlay = environment.overlay(loader=SimplifiedLoader(environment.loader))
    overlay.filters = {**environment.filters, "ui": simplified}
    return overlay


def render_page(name: str, **context) -> str:
    """render_template in the edition of the page being answered."""
    if current_edition() != "hans":
        return render_template(name, **context)
    app = current_app._get_current_object()
    app.update_template_context(context)
    return app.extensions["simplified_templates"].get_template(name).render(context)


def add_filters(environment: Environment) -> None:
    """What every template of the form server's may use: dates as people write them, and `ui`
    (the code's words; in Traditional as written)."""
    environment.filters.update(ui=lambda text: text, written_date=written_date,
                               written_time=written_time, captured_time=captured_time)


def init_app(app: Flask) -> None:
    add_filters(app.jinja_env)
    app.extensions["simplified_templates"] = simplified_environment(app.jinja_env)
