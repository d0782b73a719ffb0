"""Shared fixtures: the build, a small fixture site, the form server's app, a real SMTP server.
Plain helpers (no fixtures) live in helpers.py, which bench/ uses too."""

from __future__ import annotations

import os
import shutil
import textwrap

import pytest
from helpers import (
    FIXTURE_CONFIG,
    FIXTURE_PAGES,
    ROOT,
    SMTPServer,
    load_build_module,
    make_app,
)
from hypothesis import settings

# scripts/test (and so CI) runs the property tests on the same examples every time: a rare
# example found by chance would turn a submission red that changed nothing near it. Run them
# with HYPOTHESIS_PROFILE=default to explore new examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def site_build():
    """The build.py module."""
    return load_build_module()


@pytest.fixture
def fixture_site(tmp_path):
    """A small site (five pages, one subsection) with the real templates and stylesheet."""
    root = tmp_path / "project"
    for name, text in FIXTURE_PAGES.items():
        path = root / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), "utf-8")
    (root / "site.toml").write_text(FIXTURE_CONFIG, "utf-8")
    shutil.copytree(ROOT / "templates", root / "templates")
    shutil.copytree(ROOT / "static", root / "static")
    return root


@pytest.fixture
def build_fixture(site_build, fixture_site):
    """Build the fixture site into project/site and return the output folder."""

    def run(**kwargs):
        out = kwargs.pop("out", fixture_site / "site")
        site_build.build(fixture_site / "content", fixture_site / "templates", out, **kwargs)
        return out

    return run


# --- the form server --------------------------------------------------------------------------



@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that records every message it accepts."""
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, smtp_server, built_site):
    """The form server, delivering to the test's SMTP server; delivery is run by the tests."""
    return make_app(tmp_path, smtp_server, built_site)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The real content/ built once for the session."""
    out = tmp_path_factory.mktemp("built") / "site"
    load_build_module().build(ROOT / "content", ROOT / "templates", out)
    return out


