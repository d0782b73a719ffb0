"""The shape of the code that issue 16 asks for, checked so that it stays: one room per
responsibility, views reached only through the app factory, the build's private cache read by
nobody else, and tests that share helpers, not each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import ROOT

FORMSERVER = ROOT / "formserver"
MODULES = sorted(FORMSERVER.rglob("*.py"))
TESTS = sorted((ROOT / "tests").glob("*.py"))
MOST_LINES = 400


def imported(path: Path) -> set[str]:
    """The modules a file imports, relative imports written out (formserver.views.cases)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(ROOT).parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] \
                if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_import_reader_sees_what_the_app_factory_imports():
    assert "formserver.views.cases" in imported(FORMSERVER / "__init__.py")
    assert "formserver.privacy.text" in imported(FORMSERVER / "privacy" / "complaint.py")


def test_no_module_but_the_app_factory_imports_a_views_module():
    importers = [str(path.relative_to(ROOT)) for path in MODULES
                 if path != FORMSERVER / "__init__.py" and "views" not in path.parts
                 and any(name.startswith("formserver.views") for name in imported(path))]
    assert importers == []


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(FORMSERVER)))
def test_every_module_of_the_form_server_stays_small(path):
    assert len(path.read_text("utf-8").splitlines()) <= MOST_LINES


def test_the_form_server_never_reads_the_builds_private_cache():
    assert [str(path.relative_to(ROOT)) for path in MODULES
            if ".build-manifest" in path.read_text("utf-8")] == []


def test_tests_share_helpers_not_each_other():
    importers = [path.name for path in TESTS
                 if any(name.split(".")[0].startswith("test_") for name in imported(path))]
    assert importers == []
