"""The factory: settings from the environment, secrets generated once, logs without personal data."""

import logging
import multiprocessing
import stat
from pathlib import Path

import pytest
from faults import read_only

from app import SETTINGS, ConfigError, create_app, drop_query_strings, instance_secret, read_settings
from bot.storage import StorageError, open_db


def test_settings_are_typed_like_their_defaults():
    values = read_settings(
        {"WECHAT_TIMESTAMP_TOLERANCE": "0", "MATCH_WRONG_ANSWER_TARGET": "0.02", "WECHAT_TOKEN": "t"}
    )
    assert values["WECHAT_TIMESTAMP_TOLERANCE"] == 0 and values["MATCH_WRONG_ANSWER_TARGET"] == 0.02
    assert values["WECHAT_TOKEN"] == "t"
    assert all(
        values[s.name] == s.default
        for s in SETTINGS
        if s.name not in ("WECHAT_TIMESTAMP_TOLERANCE", "MATCH_WRONG_ANSWER_TARGET", "WECHAT_TOKEN")
    )


def test_a_malformed_setting_names_the_variable():
    with pytest.raises(ValueError, match="MATCH_WRONG_ANSWER_TARGET='lots' is not a valid float"):
        read_settings({"MATCH_WRONG_ANSWER_TARGET": "lots"})


def test_environment_configures_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE", str(tmp_path / "env.sqlite"))
    monkeypatch.setenv("MATCH_WRONG_ANSWER_TARGET", "0.05")
    app = create_app()
    assert app.config["DATABASE"] == str(tmp_path / "env.sqlite")
    assert app.extensions["knowledge"].policy.wrong_answer_target == 0.05
    assert (tmp_path / "env.sqlite").exists()  # created and migrated at start


def test_secrets_are_generated_once_and_kept(tmp_path):
    first = create_app({"DATABASE": str(tmp_path / "a.sqlite")})
    second = create_app({"DATABASE": str(tmp_path / "a.sqlite")})
    assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_access_logs_drop_query_strings():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - [%s] "%s" %s',
        ("127.0.0.1", "now", "POST /wechat?signature=abc&openid=oSecret HTTP/1.1", "200"),
        None,
    )
    drop_query_strings(record)
    assert "oSecret" not in record.getMessage() and "POST /wechat?… HTTP/1.1" in record.getMessage()


def test_behind_a_proxy_rate_limits_count_the_forwarded_client(tmp_path):
    app = create_app(
        {"DATABASE": str(tmp_path / "p.sqlite"), "PROXY_HOPS": 1, "API_RATE_LIMIT_PER_IP": 1, "API_RATE_WINDOW": 3600}
    )
    client = app.test_client()
    first = client.get("/api/v1/popular", headers={"X-Forwarded-For": "203.0.113.1"})
    other = client.get("/api/v1/popular", headers={"X-Forwarded-For": "203.0.113.2"})
    again = client.get("/api/v1/popular", headers={"X-Forwarded-For": "203.0.113.1"})
    assert (first.status_code, other.status_code, again.status_code) == (200, 200, 429)


def test_generated_secrets_are_private_files(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "a.sqlite")})
    for name in ("secret_key", "user_hash_salt"):
        path = Path(app.instance_path) / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert len(path.read_text()) == 64


@pytest.mark.parametrize("content", ["", "\n", "short"])
def test_an_empty_or_short_secret_file_is_refused_at_start(tmp_path, content):
    first = create_app({"DATABASE": str(tmp_path / "a.sqlite")})
    path = Path(first.instance_path) / "secret_key"
    original = path.read_text()
    try:
        path.write_text(content)
        with pytest.raises(ConfigError, match=r"secret_key .*(empty|only \d+ characters).*at least 32"):
            create_app({"DATABASE": str(tmp_path / "a.sqlite")})
    finally:
        path.write_text(original)


@pytest.mark.parametrize("name", ["SECRET_KEY", "USER_HASH_SALT"])
def test_a_short_secret_in_the_environment_is_refused_at_start(tmp_path, monkeypatch, name):
    monkeypatch.setenv(name, "test")
    with pytest.raises(ConfigError, match=f"{name} is only 4 characters"):
        create_app({"DATABASE": str(tmp_path / "a.sqlite")})


def _create_secret(args):
    directory, barrier = args
    barrier.wait()
    return instance_secret(directory, "racing_secret")


def test_processes_racing_to_create_a_secret_all_get_the_same_whole_one(tmp_path):
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(6)
        with multiprocessing.get_context("spawn").Pool(6) as pool:
            found = pool.map(_create_secret, [(str(tmp_path), barrier)] * 6)
    assert len(set(found)) == 1 and len(found[0]) == 64


def test_a_database_that_cannot_be_opened_at_start_is_a_503_not_a_crash_and_heals(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    with read_only(folder):
        app = create_app({"DATABASE": str(folder / "bot.sqlite"), "KNOWLEDGE_RELOAD_SECONDS": 0})
        assert app.test_client().get("/healthz").status_code == 503
    app.extensions["knowledge"].wait_for_warm()  # the matcher's first training is a separate, slower 503
    assert app.test_client().get("/healthz").status_code == 200
    assert app.test_client().post("/api/v1/ask", json={"text": "家庭共济怎么开通"}).status_code == 200


def _open_fresh(args):
    path, barrier = args
    barrier.wait()
    try:
        open_db(path).conn.close()
    except StorageError as exc:
        return str(exc)
    return "ok"


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path):
    """Several workers starting on a new database: one migrates, the others wait for it (no "database is locked")."""
    with multiprocessing.Manager() as manager, multiprocessing.get_context("fork").Pool(6) as pool:
        for attempt in range(8):
            barrier = manager.Barrier(6)
            path = str(tmp_path / f"fresh{attempt}.sqlite")
            assert pool.map(_open_fresh, [(path, barrier)] * 6) == ["ok"] * 6
