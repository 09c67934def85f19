"""`flask wechat menu show|push|delete` against the loopback stand-in of WeChat's API."""

import pytest
import yaml
from wechat_user import APP_ID, wechat_config

import bot.knowledge as knowledge
from app import create_app
from handlers.wechat_api import ApiError, call
from handlers.wechat_api_standin import WeChatApiStandIn

SECRET, SITE = "menu-test-secret", "https://faq.example.com"


@pytest.fixture
def standin():
    return WeChatApiStandIn(APP_ID, SECRET)


@pytest.fixture
def menu_app(standin, tmp_path, kb_dir):
    with standin.serve() as base:
        config = wechat_config(
            tmp_path / "bot.sqlite",
            WECHAT_APP_SECRET=SECRET,
            WECHAT_API_BASE=base,
            SITE_URL=SITE,
            KNOWLEDGE_DIR=str(kb_dir),
        )
        yield create_app(config)


def menu(app, *args):
    return app.test_cli_runner().invoke(args=["wechat", "menu", *args])


def described_by_yaml(path) -> dict:
    """The menu as WeChat stores it, written straight from menu.yaml (not through the code under test)."""

    def button(raw):
        if "sub_buttons" in raw:
            return {"name": raw["name"], "sub_button": [button(b) for b in raw["sub_buttons"]]}
        if "key" in raw:
            return {"type": "click", "name": raw["name"], "key": raw["key"], "sub_button": []}
        url = SITE + raw["url"] if raw["url"].startswith("/") else raw["url"]
        return {"type": "view", "name": raw["name"], "url": url, "sub_button": []}

    return {"button": [button(b) for b in yaml.safe_load(path.read_text(encoding="utf-8"))["buttons"]]}


def test_push_creates_exactly_the_menu_menu_yaml_describes(menu_app, standin, kb_dir):
    result = menu(menu_app, "push")
    assert result.exit_code == 0, result.output
    assert standin.menu == described_by_yaml(kb_dir / "menu.yaml")
    assert "怎么开通  [click MENU_GONGJI_OPEN] → gongji-open-online" in result.output


def test_every_click_key_in_the_pushed_menu_is_answered(menu_app, standin):
    assert menu(menu_app, "push").exit_code == 0
    keys = [b["key"] for top in standin.menu["button"] for b in [top, *top["sub_button"]] if b.get("type") == "click"]
    assert keys and set(keys) == set(knowledge.load(menu_app.config["KNOWLEDGE_DIR"]).menu)


def test_show_prints_what_wechat_has(menu_app, standin):
    assert "no menu" in menu(menu_app, "show").output
    menu(menu_app, "push")
    shown = menu(menu_app, "show").output
    assert shown.splitlines()[0] == "家庭共济"
    assert f"    在线问答  [view {SITE}/]" in shown


def test_show_flags_buttons_the_bot_does_not_answer(menu_app, standin):
    standin.menu = {"button": [{"type": "click", "name": "旧按钮", "key": "OLD_KEY", "sub_button": []}]}
    assert "旧按钮  [click OLD_KEY] → (not in menu.yaml" in menu(menu_app, "show").output


def test_delete_removes_the_menu(menu_app, standin):
    menu(menu_app, "push")
    result = menu(menu_app, "delete")
    assert result.exit_code == 0 and standin.menu is None


def test_a_menu_over_wechats_limits_is_not_pushed(menu_app, standin, kb_dir):
    path = kb_dir / "menu.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  - name: 第四个\n    url: https://example.com/\n", "utf-8")
    result = menu(menu_app, "push")
    assert result.exit_code == 1
    assert "menu.yaml:" in result.output and "WeChat allows at most 3" in result.output
    assert standin.menu is None


def test_a_link_to_the_chat_page_needs_site_url(menu_app, standin):
    menu_app.config["SITE_URL"] = ""
    result = menu(menu_app, "push")
    assert result.exit_code == 1 and "set SITE_URL" in result.output
    assert standin.menu is None


def test_without_the_app_secret_the_menu_commands_say_what_to_set(tmp_path):
    app = create_app(wechat_config(tmp_path / "bot.sqlite"))
    result = menu(app, "show")
    assert result.exit_code == 1 and "WECHAT_APP_SECRET" in result.output


def test_a_refusal_shows_wechats_code_and_the_fix(menu_app, standin):
    standin.ip_allowed = False
    result = menu(menu_app, "push")
    assert result.exit_code == 1 and "40164" in result.output and "IP白名单" in result.output


def test_the_standin_refuses_menus_as_wechat_does(menu_app):
    api = menu_app.extensions["wechat_api"]
    four = {"button": [{"type": "click", "name": f"按钮{n}", "key": f"K{n}"} for n in range(4)]}
    long_name = {"button": [{"type": "click", "name": "家庭共济账户", "key": "K"}]}
    for body, code in ((four, 40016), (long_name, 40018)):
        with pytest.raises(ApiError) as refused:
            call(lambda body=body: api.menu.create(body))
        assert refused.value.code == code
