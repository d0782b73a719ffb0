"""The Simplified edition of the form server's pages: converted templates, data left alone."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from formserver.editions import simplified, simplified_environment

WRONG_CONVERSIONS = ("数据", "查找", "进程", "交互", "创建")


def test_the_words_of_the_site_are_converted_the_hong_kong_way():
    text = simplified("請查詢個人資料的處理程序，並以電郵上載相片。")
    assert text.startswith("请查询个人资料的处理程序")
    assert not any(wrong in text for wrong in WRONG_CONVERSIONS)
    assert "电子邮件" in text and "上传" in text


def test_templates_are_converted_but_what_they_are_given_is_not():
    traditional = Environment(loader=DictLoader({"page.html": "<p>投訴類別：{{ typed }}</p>"}))
    html = simplified_environment(traditional).get_template("page.html").render(
        typed="業主的資料")
    assert html == "<p>投诉类别：業主的資料</p>"
    assert traditional.get_template("page.html").render(typed="x") == "<p>投訴類別：x</p>"


def test_the_language_switch_stays_in_traditional():
    html = simplified('<a lang="zh-Hant" href="/complaint">繁體中文</a><p>繁體</p>')
    assert '<a lang="zh-Hant" href="/complaint">繁體中文</a>' in html and "<p>繁体</p>" in html
