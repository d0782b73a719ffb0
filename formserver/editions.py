"""The two scripts of every page and message the form server writes for residents: Traditional,
and Simplified under /zh-hans/.

The Simplified pages are the Traditional templates converted once, when Jinja loads them, by the
build's own converter (build.py's public to_simplified: the phrase table in regions/, then
OpenCC's hk2s), so the site and the form use the same words. The words that come from Python
(labels, messages, page titles) are converted where they are used, with `simplified()`. What a
resident typed, and what the office wrote, are data: they are never converted.
The office's own email stays in the estate's script (Traditional)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache, lru_cache
from pathlib import Path

from flask import has_request_context, request
from jinja2 import BaseLoader, Environment

from .site import edition_of

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "build.py"


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


def for_edition(text: str, edition: str) -> str:
    return simplified(text) if edition == "hans" else text


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
    """A linked environment (same filters, globals and settings) whose templates are converted."""
    return environment.overlay(loader=SimplifiedLoader(environment.loader))


def current_edition() -> str:
    """The edition of the page being answered; Traditional outside a request."""
    return edition_of(request.path) if has_request_context() else "hant"
