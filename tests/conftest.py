"""Shared fixtures: a small fixture site for the build, and (later) the form server's app."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_build_module():
    """build.py is a script, not an installed module (the name `build` is PyPA's)."""
    if "site_build" not in sys.modules:
        spec = importlib.util.spec_from_file_location("site_build", ROOT / "build.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["site_build"] = module
        spec.loader.exec_module(module)
    return sys.modules["site_build"]


@pytest.fixture(scope="session")
def site_build():
    """The build.py module."""
    return load_build_module()


FIXTURE_PAGES = {
    "index.md": """\
        ---
        title: 首頁
        description: 測試網站的首頁。
        order: 0
        ---
        歡迎。請先閱讀[準備](prep.md)，然後看[流程的第二步](steps.md#second)。

        [我要投訴](/complaint){.button}
        """,
    "prep.md": """\
        ---
        title: 投訴準備
        description: 準備投訴。
        order: 2
        ---
        收集證據後，致電{{ site.office.phone }}。
        """,
    "steps.md": """\
        ---
        title: 投訴流程
        description: 五個步驟。
        order: 1
        ---
        ## 第一步 提交

        內容。

        ## 第二步 {#second}

        內容。

        ## 第三步 調查核實

        回到[首頁](index.md)或[第三步](#第三步-調查核實)。
        """,
    "staff/index.md": """\
        ---
        title: 員工指引
        description: 給管理處員工。
        order: 10
        ---
        見[接待](reception.md)。
        """,
    "staff/reception.md": """\
        ---
        title: 接待投訴
        description: 接待的要訣。
        order: 11
        ---
        回到[流程](../steps.md)。
        """,
}

FIXTURE_CONFIG = """\
base_url = "https://estate.test"
app_paths = ["/complaint", "/follow-up"]
[estate]
name = "測試花園"
[office]
name = "物業管理處"
address = "測試花園地下"
phone = "2345 0000"
email = "office@estate.test"
hours = "星期一至五"
[committee]
name = "業主委員會"
address = "會所"
phone = "2345 0001"
email = "committee@estate.test"
hours = "每月一次"
"""


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
