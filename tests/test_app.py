"""The factory: settings from the environment, secrets generated once, logs without personal data."""

import logging

import pytest

from app import SETTINGS, create_app, drop_query_strings, read_settings


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
