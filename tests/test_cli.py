"""The operators' commands, through Flask's CLI runner (and once through the real `flask` command line)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_lint_passes_on_the_project_base(runner):
    result = runner.invoke(args=["faq", "lint"])
    assert result.exit_code == 0
    assert "ok: 32 FAQs" in result.output


def test_lint_on_the_command_line_checks_the_files_without_loading_the_served_base(tmp_path, kb_dir):
    """`make run` lints first: a training of the served base started for nothing took the CPU from the lint and,
    still running in native code when the command exited, could abort it (seen at 10,000 entries). A served base
    that does not load shows whether lint touched it: a load would log `knowledge_rejected`."""
    (kb_dir / "userdict.txt").write_text("家庭共济 abc n\n", encoding="utf-8")
    settings = {
        "KNOWLEDGE_DIR": str(kb_dir),
        "DATABASE": str(tmp_path / "bot.sqlite"),
        "KNOWLEDGE_STORE": str(tmp_path / "store"),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "app", "faq", "lint", str(ROOT / "knowledge")],
        cwd=ROOT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "ok: 32 FAQs" in done.stdout
    assert "knowledge_rejected" not in done.stderr, done.stderr


def test_lint_fails_with_file_and_line(runner, kb_dir):
    (kb_dir / "userdict.txt").write_text("家庭共济 abc n\n", encoding="utf-8")
    result = runner.invoke(args=["faq", "lint", str(kb_dir)])
    assert result.exit_code == 1
    assert "userdict.txt:1: frequency 'abc' must be a whole number" in result.output


def test_ask_prints_what_the_user_would_see(runner):
    result = runner.invoke(args=["faq", "ask", "深圳家庭共济能绑兄弟姐妹吗"])
    assert result.exit_code == 0
    assert "兄弟姐妹" in result.output
    assert "深圳：" in result.output  # the regional note for the city named
    assert "以参保地医保部门规定为准" in result.output


def test_ask_explain_shows_tokens_candidates_and_band(runner):
    result = runner.invoke(args=["faq", "ask", "--explain", "家庭公积怎么开通"])
    assert "tokens:" in result.output
    assert "pinyin:" in result.output
    assert "gongji-open-online" in result.output
    assert "decision:   answer" in result.output


def test_match_reads_and_writes_json_lines_in_order(runner):
    lines = [
        {"id": "a", "q": "亲情账户最多能加几个人"},
        {"id": "b", "q": "红烧肉怎么做"},
        {"id": "c", "q": "谢谢"},
        {"id": "d", "q": "亲情账户绑定"},
    ]
    result = runner.invoke(args=["faq", "match"], input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    assert (out[0]["action"], out[0]["faq_id"]) == ("answer", "qinqing-limits")
    assert out[1]["action"] == "fallback" and out[1]["faq_id"] is None
    assert out[2]["action"] == "smalltalk"
    assert out[3]["action"] == "clarify" and len(out[3]["candidates"]) >= 2
    assert set(out[0]) == {"id", "action", "faq_id", "region", "score", "candidates"}


def test_match_reports_region_as_province(runner):
    result = runner.invoke(args=["faq", "match"], input='{"id": 1, "q": "深圳亲情账户怎么绑"}\n')
    assert json.loads(result.output)["region"] == "广东"


def test_match_skips_bad_lines_and_keeps_going(runner):
    result = runner.invoke(args=["faq", "match"], input='not json\n{"id": 2, "q": "亲情账户余额"}\n')
    assert "stdin line 1: skipped" in result.stderr
    assert json.loads(result.stdout)["id"] == 2


def test_eval_prints_every_figure_and_the_misses(runner):
    result = runner.invoke(args=["faq", "eval"])
    for label in (
        "in-scope top-1 accuracy",
        "clarify-hit rate",
        "confident-wrong rate",
        "out-of-scope false-accept",
        "region accuracy",
        "baseline (WRatio)",
        "by kind",
        "misses",
    ):
        assert label in result.output


def test_unanswered_lists_what_users_asked_most_often(app, runner):
    from bot import Incoming

    bot = app.extensions["bot"]
    for user in ("u1", "u2"):
        bot.respond(Incoming("wechat", user, text="公积金怎么提取"))
    bot.respond(Incoming("wechat", "u3", text="红烧肉怎么做"))
    lines = runner.invoke(args=["faq", "unanswered"]).output.splitlines()
    assert "2×" in lines[0] and "公积金怎么提取" in lines[0]
    assert "红烧肉怎么做" in lines[1]


def test_ask_can_try_an_edited_copy_before_it_is_published(runner, kb_dir):
    faq = kb_dir / "faqs" / "general.yaml"
    faq.write_text(
        faq.read_text(encoding="utf-8").replace("      - ", "      - 医保卡能不能借给邻居用\n      - ", 1), "utf-8"
    )
    result = runner.invoke(args=["faq", "ask", "--knowledge", str(kb_dir), "--explain", "医保卡能不能借给邻居用"])
    assert result.exit_code == 0 and "via “医保卡能不能借给邻居用”" in result.output


def test_ask_on_a_broken_copy_says_what_is_wrong(runner, kb_dir):
    (kb_dir / "menu.yaml").write_text("popular: [", encoding="utf-8")
    result = runner.invoke(args=["faq", "ask", "--knowledge", str(kb_dir), "共济"])
    assert result.exit_code == 1 and "menu.yaml:1: YAML syntax error" in result.output


def test_feedback_lists_the_most_disliked_answers_first(app, runner):
    bot = app.extensions["bot"]
    bot.feedback("api", "u1", "qinqing-limits", True)
    bot.feedback("api", "u2", "gongji-who", False)
    bot.feedback("api", "u3", "gongji-who", False)
    lines = runner.invoke(args=["faq", "feedback"]).output.splitlines()
    assert lines[0].startswith("gongji-who") and "没用    2" in lines[0]
    assert lines[1].startswith("qinqing-limits") and "有用    1" in lines[1]
