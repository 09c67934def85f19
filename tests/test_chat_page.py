"""The chat page in Debian's Chromium against the real app: popular questions, clarify, answer, feedback."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parent / "artifacts" / "chat.png"
SESSION_KEY = "yibao-chat-session"
# Everything the page may load: its own three files and the three API endpoints, nothing from elsewhere.
PAGE_PATHS = {"/", "/static/chat.css", "/static/chat.js", "/api/v1/popular", "/api/v1/ask", "/api/v1/feedback"}
TIMEOUT_MS = 10_000  # Playwright's 5 s default is tight for the first answer on a busy CI machine

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium; missing is a skip on a developer's machine and a failure in CI."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The real app on a free local port, served from a thread while the test runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


class ChatPage:
    """A user's steps on the chat page, as flaskr's AuthActions are for logging in."""

    def __init__(self, page: Page):
        self.page = page
        self.requests = []
        self.errors = []
        page.on("request", lambda request: self.requests.append(request))
        page.on("pageerror", lambda error: self.errors.append(error))

    def open(self) -> None:
        """Load the page and wait for the popular questions, so no request of the page is still in flight."""
        self.page.goto("/")
        expect(self.popular().first).to_be_visible()

    def popular(self) -> Locator:
        return self.bot_messages().first.locator(".choice")

    def bot_messages(self) -> Locator:
        return self.page.locator(".message.bot:not(.loading)")

    def ask(self, text: str) -> Locator:
        """Type a question and send it; the bot's reply once it is shown."""
        self.page.get_by_label("您的问题").fill(text)
        return self._reply_to(self.page.get_by_role("button", name="发送"))

    def tap(self, button: Locator) -> Locator:
        """Tap a question button (option, related, popular); the bot's reply once it is shown."""
        return self._reply_to(button)

    def _reply_to(self, button: Locator) -> Locator:
        count = self.bot_messages().count()
        button.click()
        expect(self.bot_messages()).to_have_count(count + 1)
        return self.bot_messages().last

    def asked(self) -> list[dict]:
        """The bodies the page posted to /api/v1/ask, in order."""
        return [r.post_data_json for r in self.requests if urlsplit(r.url).path == "/api/v1/ask"]


@pytest.fixture
def chat(browser, live_server):
    context = browser.new_context(
        viewport={"width": 375, "height": 667}, device_scale_factor=2, base_url=live_server, reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    chat = ChatPage(page)
    chat.open()
    yield chat
    context.close()


def test_a_user_asks_picks_an_option_rates_the_answer_and_asks_again(chat, client, live_server):
    page = chat.page
    popular = client.get("/api/v1/popular").get_json()["faqs"]
    expect(chat.popular()).to_have_text([faq["title"] for faq in popular])

    clarify = chat.ask("亲情账户绑定")
    first_option = client.post("/api/v1/ask", json={"text": "亲情账户绑定"}).get_json()["options"][0]
    expect(clarify.locator(".choice").first).to_have_text(first_option["title"])

    answer = chat.tap(clarify.locator(".choice").first)
    expect(page.locator(".message.user .bubble").last).to_have_text(first_option["title"])
    expected = client.post("/api/v1/ask", json={"text": first_option["faq_id"]}).get_json()["answer"]
    assert answer.locator(".bubble").inner_text().splitlines()[:2] == expected.splitlines()[:2]

    helpful = answer.get_by_role("button", name="有用", exact=True)
    with page.expect_response("**/api/v1/feedback") as feedback:
        helpful.click()
    assert feedback.value.ok
    expect(helpful).to_be_disabled()
    expect(answer.get_by_role("button", name="没用", exact=True)).to_be_disabled()
    expect(answer.locator(".feedback-note")).to_have_text("谢谢反馈")

    opened = chat.ask("家庭共济怎么开通")
    expect(opened.locator(".bubble")).to_contain_text("国家医保服务平台")

    session = page.evaluate(f"localStorage.getItem({SESSION_KEY!r})")
    assert session and [body.get("session") for body in chat.asked()] == [None, session, session]
    assert chat.errors == []
    assert {urlsplit(r.url)._replace(path="").geturl() for r in chat.requests} == {live_server}
    assert {urlsplit(r.url).path for r in chat.requests} <= PAGE_PATHS

    save_full_page(page)


def save_full_page(page: Page) -> None:
    """A screenshot of the whole conversation; a viewport that tall keeps the sticky bars at the ends."""
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 375, "height": height})
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_api_failures_show_an_error_bubble_and_the_page_recovers(chat, app):
    # One request per window, one window for the whole test: the reopened page's GET /popular uses it up.
    app.config.update(API_RATE_LIMIT_PER_IP=1, API_RATE_WINDOW=10**9)
    chat.open()
    rate_limited = chat.ask("亲情账户绑定")
    expect(rate_limited).to_have_class(re.compile(r"\berror\b"))
    expect(rate_limited.locator(".bubble")).to_have_text("请求太频繁，请稍后再试")

    chat.page.context.set_offline(True)
    expect(chat.ask("亲情账户绑定").locator(".bubble")).to_have_text("网络不通，请稍后再试")

    chat.page.context.set_offline(False)
    app.config["API_RATE_LIMIT_PER_IP"] = 100
    expect(chat.ask("亲情账户绑定").locator(".choice").first).to_be_visible()
    assert chat.errors == []


def test_server_text_is_shown_as_text_with_its_line_breaks(chat):
    reply = {
        "session": "a-session",
        "action": "answer",
        "faq_id": "gongji-what-is",
        "title": None,
        "answer": "<b>第一行</b>\n<img src=x onerror=alert(1)>第二行",
        "region": None,
        "options": [{"faq_id": "gongji-who", "title": "<i>选项</i>"}],
        "related": [],
    }
    chat.page.route("**/api/v1/ask", lambda route: route.fulfill(json=reply))
    shown = chat.ask("<u>问题</u>")
    assert shown.locator(".bubble").inner_text() == reply["answer"]
    expect(shown.locator(".choice")).to_have_text("<i>选项</i>")
    expect(chat.page.locator(".message.user .bubble").last).to_have_text("<u>问题</u>")
    expect(chat.page.locator("#messages").locator("b, i, u, img")).to_have_count(0)


def test_a_session_the_server_did_not_issue_is_replaced(chat):
    chat.page.evaluate(f"localStorage.setItem({SESSION_KEY!r}, 'made-up')")
    chat.open()
    expect(chat.ask("亲情账户绑定").locator(".choice").first).to_be_visible()
    session = chat.page.evaluate(f"localStorage.getItem({SESSION_KEY!r})")
    assert [body.get("session") for body in chat.asked()] == ["made-up", None]
    assert session not in (None, "made-up")
