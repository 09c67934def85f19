"""The console in Debian's Chromium: an operator finds the week's unanswered question, adds it, publishes, sees the
bot answer it on the chat page, and rolls it back; a forged form and a wrong password are refused."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from admin_console import PASSWORD, create_user
from playwright.sync_api import Page, expect
from test_chat_page import browser  # noqa: F401 (the fixture: Debian's Chromium, or a skip)
from werkzeug.serving import make_server

from app import create_app
from bot import Incoming

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
QUESTION = "亲情账户绑定"  # asked back today
ENTRY = "qinqing-bind-app"
NEW_ANSWER = "新版回答：先激活本人医保电子凭证。\n1. 打开国家医保服务平台APP，进入“我的家庭成员”。"
#: A console page lints the live files and the draft on first view (seconds each; more while other tests train).
PAGE_MS = 60_000
TRAINING_MS = 180_000  # publishing trains the draft's matcher: tens of seconds on a busy 2-core machine


@pytest.fixture
def console_server(tmp_path, kb_dir):
    """The app on plain http on a free port (the Secure cookie flag switched off, as for local use)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "bot.sqlite"),
            "KNOWLEDGE_DIR": str(kb_dir),
            "KNOWLEDGE_RELOAD_SECONDS": 0,
            "ADMIN_COOKIE_SECURE": False,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def page(browser, console_server):  # noqa: F811 (the imported fixture)
    _, base_url = console_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(PAGE_MS)
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def log_in(page: Page, password: str = PASSWORD) -> None:
    page.goto("/admin/")
    assert "/admin/login" in page.url
    page.get_by_label("用户名").fill("pat")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_an_operator_adds_the_weeks_unanswered_question_publishes_it_and_rolls_it_back(page, console_server):
    app, _ = console_server
    assert create_user(app.test_cli_runner(), "pat", "publisher").exit_code == 0
    for user in ("a", "b"):  # two users were asked back and walked away
        assert app.extensions["bot"].respond(Incoming("wechat", user, text=QUESTION)).action == "clarify"
    kb, _ = app.extensions["knowledge"].current()
    answer_starts = kb.faqs_by_id[ENTRY].answer.splitlines()[0]

    log_in(page, "not the password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")
    log_in(page)
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    expect(page.locator('svg[aria-label="每天的问题数"]')).to_be_visible()
    screenshot(page, "admin-dashboard.png")

    # The week's most common unanswered question, added to the entry it belongs to, published, answered.
    page.get_by_role("link", name="未解决的问题").click()
    cluster = page.locator("section.cluster", has=page.get_by_role("heading", name=f"2× {QUESTION}"))
    expect(cluster).to_contain_text("反问后未选择")
    cluster.get_by_label("把例句添加为以下条目的其他问法").select_option(ENTRY)
    cluster.get_by_role("button", name="添加到草稿").click()
    expect(page.get_by_role("status")).to_contain_text(f"已把“{QUESTION}”添加为其他问法")
    assert page.get_by_label("其他问法").input_value().splitlines()[-1] == QUESTION
    page.get_by_role("link", name="发布", exact=True).click()
    expect(page.locator("pre.diff")).to_contain_text(f"+      - {QUESTION}")
    page.set_default_timeout(TRAINING_MS)
    page.get_by_role("button", name="发布草稿").click()
    expect(page.get_by_role("status")).to_contain_text("已发布第 2 版")
    page.set_default_timeout(PAGE_MS)
    assert ask_on_the_chat_page(page, QUESTION).startswith(answer_starts)

    # Rolled back, the question is asked back again.
    page.get_by_role("button", name="回滚到此版本").click()
    expect(page.get_by_role("status")).to_contain_text("已回滚到第 1 版")
    assert not ask_on_the_chat_page(page, QUESTION).startswith(answer_starts)

    # An answer edited in the form is previewed as WeChat shows it, in the draft only.
    page.goto(f"/admin/faqs/{ENTRY}")
    page.get_by_label("回答").fill(NEW_ANSWER)
    page.get_by_role("button", name="保存到草稿").click()
    expect(page.get_by_role("status")).to_contain_text("已保存到草稿")
    expect(page.locator("#preview .wechat .bubble").first).to_contain_text(NEW_ANSWER.splitlines()[0])
    screenshot(page, "admin-editor.png")

    page.get_by_role("link", name="操作记录").click()
    rows = page.locator("#audit tbody tr")
    for number, action in enumerate(["修改条目（草稿）", "回滚", "发布", "添加问法（草稿）"]):
        expect(rows.nth(number)).to_contain_text(action)
        expect(rows.nth(number)).to_contain_text("pat")


def ask_on_the_chat_page(page: Page, question: str) -> str:
    """The answer a user gets on the chat page, in a new tab."""
    chat = page.context.new_page()
    chat.goto("/")
    expect(chat.locator(".message.bot .choice").first).to_be_visible()
    chat.get_by_label("您的问题").fill(question)
    chat.get_by_role("button", name="发送").click()
    reply = chat.locator(".message.bot:not(.loading) .bubble").nth(1)
    expect(reply).to_be_visible()
    text = reply.inner_text()
    chat.close()
    return text


def test_a_form_posted_without_its_token_is_refused(page, console_server):
    app, _ = console_server
    create_user(app.test_cli_runner(), "pat", "publisher")
    log_in(page)
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
    status = page.evaluate(
        "fetch('/admin/publish', {method: 'POST', body: new URLSearchParams({})}).then(r => r.status)"
    )
    assert status == 400
    expect(page.get_by_role("heading", name="概览")).to_be_visible()
