"""Publishing: drafts, the regression gate on the labelled questions, versions and rollback."""

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from served import Gunicorn, small_knowledge

import bot.knowledge as knowledge
from app import create_app
from bot.knowledge import editing
from bot.publishing import PublishError, Store


@pytest.fixture
def store_app(tmp_path, kb_dir):
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "bot.sqlite"),
            "KNOWLEDGE_DIR": str(kb_dir),
            "KNOWLEDGE_STORE": str(tmp_path / "store"),
            "KNOWLEDGE_RELOAD_SECONDS": 0.01,
        }
    )


def faq(app, *args):
    return app.test_cli_runner().invoke(args=["faq", *args])


def serves(app, faq_id, answer) -> bool:
    """Whether the workers come to serve `answer` once they noticed the publish (a background reload, as in
    production: the link changed, the files settle, a thread retrains)."""
    source = app.extensions["knowledge"]
    for _ in range(1200):
        source.refresh()
        source.wait_for_reload()
        if source.current()[0].faq(faq_id).answer == answer:
            return True
        time.sleep(0.1)
    return False


def test_publish_versions_and_rollback(store_app, kb_dir):
    first = faq(store_app, "publish", "--author", "wang", "-m", "baseline")
    assert first.exit_code == 0, first.output
    assert "published version 1" in first.output
    old_answer = editing.read_entry(kb_dir, "card-lending").answer

    new_answer = old_answer + "\n4. 发现冒用可拨打12393举报。"
    editing.update_entry(kb_dir, "card-lending", answer=new_answer)
    second = faq(store_app, "publish", "--author", "li", "-m", "举报电话")
    assert second.exit_code == 0, second.output
    assert "changed entry card-lending: answer" in second.output
    assert serves(store_app, "card-lending", new_answer)

    listed = faq(store_app, "versions").output.splitlines()
    assert listed[0].startswith("    1") and " wang — baseline: first version" in listed[0]
    assert listed[1].startswith("*   2") and " li — 举报电话: changed entry card-lending: answer" in listed[1]
    health = store_app.test_client().get("/healthz").get_json()
    assert health["knowledge"] == {"version": 2, "last_rejected_edit": None}

    undo = faq(store_app, "rollback", "1", "--author", "wang")
    assert undo.exit_code == 0, undo.output
    assert serves(store_app, "card-lending", old_answer)
    assert store_app.test_client().get("/healthz").get_json()["knowledge"]["version"] == 1
    history_file = store_app.extensions["knowledge_store"].root / "history.jsonl"
    history = [json.loads(line) for line in history_file.read_text(encoding="utf-8").splitlines()]
    assert [(e["event"], e["author"], e["version"]) for e in history] == [
        ("publish", "wang", 1),
        ("publish", "li", 2),
        ("rollback", "wang", 1),
    ]


def test_a_change_that_breaks_a_labelled_question_is_refused_naming_it(store_app, kb_dir):
    assert faq(store_app, "publish", "--author", "wang").exit_code == 0
    draft = faq(store_app, "draft", "zhao").output.strip()
    # Most of the what-is entry's alternates moved to card-lending: its questions now go there.
    moved = editing.read_entry(draft, "gongji-what-is").alternates
    editing.update_entry(draft, "gongji-what-is", alternates=moved[:6])
    editing.update_entry(
        draft, "card-lending", alternates=editing.read_entry(draft, "card-lending").alternates + moved[6:]
    )

    refused = faq(store_app, "publish", "--draft", "zhao", "--author", "zhao")
    assert refused.exit_code == 1
    named = re.findall(r"^(\w+) «(.+)»: was answered right \((.+)\); now (.+)$", refused.output, re.MULTILINE)
    assert named, refused.output
    labelled = {q.id: q for q in knowledge.load(kb_dir).labelled}
    live_matcher = store_app.extensions["knowledge"].current()[1]
    for question_id, text, expected, now in named:
        assert labelled[question_id].text == text and ", ".join(labelled[question_id].expect) == expected
        assert live_matcher.match(text).faq_id in labelled[question_id].expect  # right today
        assert "entry '" in now  # names the entry that took it (or that it now asks back with)
    assert "the live version is unchanged" in refused.output
    health = store_app.test_client().get("/healthz").get_json()["knowledge"]
    assert health["version"] == 1
    assert health["last_rejected_edit"]["by"] == "zhao"
    assert health["last_rejected_edit"]["reasons"][0].startswith(f"{named[0][0]} «")


def test_a_draft_that_does_not_lint_is_refused_with_file_and_line(store_app, kb_dir):
    draft = faq(store_app, "draft", "zhao").output.strip()
    editing.update_entry(draft, "card-lending", sources=["N2", "N404"])
    refused = faq(store_app, "publish", "--draft", "zhao", "--author", "zhao")
    assert refused.exit_code == 1
    assert "general.yaml:" in refused.output and "source 'N404' is not in sources.yaml" in refused.output
    assert store_app.extensions["knowledge_store"].versions() == []


def test_rollback_to_a_version_that_does_not_exist_is_a_clear_error(store_app):
    result = faq(store_app, "rollback", "7")
    assert result.exit_code == 1
    assert "there is no version 7" in result.output


def test_a_command_run_on_a_copy_does_not_move_what_the_server_serves(tmp_path, kb_dir):
    store = Store(tmp_path / "store")
    assert store.serve(kb_dir) == store.live
    assert store.live.resolve() == kb_dir.resolve()
    copy = tmp_path / "copy"
    shutil.copytree(kb_dir, copy)
    assert store.serve(copy) == copy.resolve()  # served directly
    assert store.live.resolve() == kb_dir.resolve()  # the server's link is untouched
    shutil.rmtree(kb_dir)
    assert store.serve(copy) == store.live  # a link to a folder that is gone is mended
    assert store.live.resolve() == copy.resolve()


def test_a_draft_is_a_copy_of_live_that_edits_do_not_leak_from(tmp_path, kb_dir):
    store = Store(tmp_path / "store")
    store.serve(kb_dir)
    draft = store.draft("zhao")
    editing.add_alternate(draft, "card-lending", "医保卡借给我哥用行吗")
    assert "医保卡借给我哥用行吗" not in (kb_dir / "faqs" / "general.yaml").read_text(encoding="utf-8")
    assert store.draft("zhao") == draft and "医保卡借给我哥用行吗" in (draft / "faqs" / "general.yaml").read_text(
        encoding="utf-8"
    )
    store.draft("zhao", reset=True)
    assert "医保卡借给我哥用行吗" not in (draft / "faqs" / "general.yaml").read_text(encoding="utf-8")
    with pytest.raises(PublishError):
        store.draft("../escape")


def test_every_gunicorn_worker_serves_a_publish(tmp_path):
    kb_dir = shutil.copytree(small_knowledge(), tmp_path / "knowledge")  # each process trains it: 3 s, not 20
    store_dir = tmp_path / "store"
    settings = {"KNOWLEDGE_DIR": str(kb_dir), "KNOWLEDGE_STORE": str(store_dir), "KNOWLEDGE_RELOAD_SECONDS": "0.2"}
    with Gunicorn(tmp_path, workers=2, **settings) as server:
        offset = server.log_size()
        store = Store(store_dir)
        draft = store.draft("wang")
        new_answer = editing.read_entry(draft, "card-lending").answer + "\n4. 发现冒用可拨打12393举报。"
        editing.update_entry(draft, "card-lending", answer=new_answer)
        assert store.publish(draft, "wang", "举报电话").accepted

        server.wait_for(
            lambda: (
                server.ask("医保卡能借给家人用吗").status == 200 and server.log(offset).count("knowledge_loaded") >= 2
            ),
            timeout=300,
            what="both workers reloading the published version",
        )
        answers = {server.get("/api/v1/faqs/card-lending").json()["answer"] for _ in range(20)}
        assert answers == {new_answer}
        assert server.get("/healthz").json()["knowledge"]["version"] == 1


def test_a_publish_that_would_undo_a_later_one_is_refused(store_app, kb_dir, tmp_path):
    old_draft = faq(store_app, "draft", "zhao").output.strip()  # copied before version 1
    assert faq(store_app, "publish", "--author", "wang").exit_code == 0

    stale = faq(store_app, "publish", "--draft", "zhao", "--author", "zhao")
    assert stale.exit_code == 1
    assert "live is version 1 now, but this draft was copied from version 0" in stale.output
    copy = tmp_path / "elsewhere"
    shutil.copytree(kb_dir, copy)
    other = store_app.extensions["knowledge_store"]
    with pytest.raises(PublishError, match="publishing this folder would undo its changes"):
        other.publish(copy, "li")
    assert [v.number for v in other.versions()] == [1]
    assert Path(old_draft).is_dir()


def test_healthz_says_which_hand_edit_was_refused_while_the_last_good_version_serves(store_app, kb_dir):
    source = store_app.extensions["knowledge"]
    source.current()
    faq_file = kb_dir / "faqs" / "general.yaml"
    faq_file.write_text(faq_file.read_text(encoding="utf-8").replace("reviewed: 2026-12-01", "reviewed: soon", 1))
    assert source.reload()
    response = store_app.test_client().get("/healthz")
    assert response.status_code == 200
    rejected = response.get_json()["knowledge"]["last_rejected_edit"]
    assert rejected["what"] == "edited files"
    assert any("general.yaml:" in reason and "reviewed must be a date" in reason for reason in rejected["reasons"])
