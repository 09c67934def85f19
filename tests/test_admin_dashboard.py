"""/admin's dashboard: charts from the turns and feedback the bot records, top FAQs, channels, the base's health."""

from __future__ import annotations

import re
from html import unescape

import pytest
from admin_console import draft_of

from bot import Incoming
from handlers.admin_charts import line_chart

pytestmark = pytest.mark.engines  # the console on SQLite, and on the PostgreSQL several hosts share


def test_the_dashboard_charts_what_users_asked_and_how_it_went(admin_app, editor):
    bot = admin_app.extensions["bot"]
    assert bot.respond(Incoming("wechat", "a", text="家庭共济怎么开通")).action == "answer"
    bot.respond(Incoming("wechat", "a", text="有用"))
    assert bot.respond(Incoming("api", "b", text="医保卡丢了怎么补办", paged=False)).action == "fallback"
    page = unescape(editor.client.get("/admin/?days=7").get_data(as_text=True))
    for chart in (
        "每天的问题数",
        "已回答 / 反问 / 未能回答",
        "每天的有用 / 没用",
        "各渠道的问题数",
    ):
        assert re.search(rf'<svg role="img" aria-label="{re.escape(chart)}', page), chart
    assert "共 <b>2</b> 个问题" in page and "已回答 <b>1</b> 个" in page
    top = page.split('id="top-faqs"')[1].split("</table>")[0]
    assert "家庭共济" in top and re.search(r"<td>1</td><td>1</td><td>0</td>", top)
    channels = page.split('aria-label="各渠道的问题数"')[1].split("</svg>")[0]
    assert ">wechat<" in channels and ">api<" in channels
    health = page.split('id="health"')[1]
    assert '线上知识库：<span class="ok">检查无误' in health


def test_the_dashboard_shows_a_broken_draft_in_its_health(admin_app, editor):
    draft = editor.client.get("/admin/faqs")  # makes the draft
    assert draft.status_code == 200
    path = draft_of(admin_app) / "faqs" / "gongji.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - id: [broken\n", encoding="utf-8")
    health = unescape(editor.client.get("/admin/").get_data(as_text=True)).split('id="health"')[1]
    assert re.search(r"草稿：<span class=\"error\">\d+ 个问题", health)
    assert "faqs/gongji.yaml:" in health


def test_a_line_chart_has_a_point_per_day_and_series():
    svg = str(line_chart("t", ["2026-11-30", "2026-12-01"], {"a": [1, 2], "b": [0, 3]}))
    assert svg.count("<circle") == 4 and svg.count("<polyline") == 2
    assert "b 2026-12-01: 3" in svg


def test_bad_days_fall_back_to_the_default_period(editor):
    for days in ("abc", "-1", "0", "99999999999999999999", "٣"):
        assert editor.client.get(f"/admin/?days={days}").status_code == 200
