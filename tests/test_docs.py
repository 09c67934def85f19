"""README stays true: every setting and every command is documented there (datasette's habit)."""

from pathlib import Path

import pytest

from app import SETTINGS
from handlers.admin_cli import admin
from handlers.cli import faq

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_configuration_table(setting):
    assert f"| `{setting.name}` |" in README


@pytest.mark.parametrize("command", sorted(faq.commands))
def test_every_faq_command_is_documented(command):
    assert f"flask --app app faq {command}" in README


def test_wechat_send_is_documented():
    assert "flask --app app wechat send" in README


def test_quick_start_is_two_commands():
    assert "make run" in README and "make test" in README


@pytest.mark.parametrize("command", ["wechat menu push", "wechat menu show", "wechat menu delete", "wechat late"])
def test_every_wechat_command_is_documented(command):
    assert f"flask --app app {command}" in README


@pytest.mark.parametrize("command", sorted(admin.commands))
def test_every_admin_command_is_documented(command):
    assert f"flask --app app admin {command}" in README
