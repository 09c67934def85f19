"""/healthz tells a load balancer the truth about the database, and turns back to 200 by itself."""

import sqlite3
import threading
from pathlib import Path

import pytest
from faults import gone, read_only

from app import create_app


@pytest.fixture
def db_app(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    app = create_app({"TESTING": True, "DATABASE": str(folder / "bot.sqlite"), "KNOWLEDGE_RELOAD_SECONDS": 0})
    app.extensions["knowledge"].wait_for_warm()  # these tests are about the database, not the first training
    return app


def health(client) -> tuple[int, str]:
    response = client.get("/healthz")
    return response.status_code, response.get_json()["checks"]["database"]


def ask(client):
    return client.post("/api/v1/ask", json={"text": "家庭共济怎么开通"})


@pytest.mark.parametrize("fault", [read_only, gone], ids=["read-only", "gone"])
def test_healthz_turns_503_and_back_and_requests_get_503_not_500(db_app, fault):
    client = db_app.test_client()
    folder = Path(db_app.config["DATABASE"]).parent
    assert health(client) == (200, "ok") and ask(client).status_code == 200
    with fault(folder):
        # A new thread, as a new gunicorn thread or worker would: its connection is opened during the fault.
        results = run_in_new_thread(lambda: (health(db_app.test_client()), ask(db_app.test_client())))
        (status, check), answer = results
        assert status == 503 and check.startswith("unavailable"), check
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert answer.get_json()["error"]["code"] == "unavailable"
        assert health(client)[0] == 503 or fault is read_only  # a connection from before may still write
    assert health(client) == (200, "ok")
    assert run_in_new_thread(lambda: health(db_app.test_client())) == (200, "ok")
    assert ask(client).status_code == 200


def run_in_new_thread(work):
    result = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    thread.join()
    return result[0]


def test_a_gone_database_is_not_silently_recreated_empty(db_app, tmp_path):
    client = db_app.test_client()
    ask(client)
    with gone(tmp_path / "data"):
        assert ask(client).status_code == 503
        assert not (tmp_path / "data").exists()
    assert ask(client).status_code == 200


def test_a_write_locked_database_is_a_503_with_retry_after_not_a_500(db_app):
    client = db_app.test_client()
    assert ask(client).status_code == 200
    locker = sqlite3.connect(db_app.config["DATABASE"], isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        status, check = health(client)
        assert status == 503 and "locked" in check
        response = ask(client)
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert ask(client).status_code == 200 and health(client) == (200, "ok")


def test_a_missing_database_folder_is_not_created(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "nowhere" / "bot.sqlite")})
    assert app.test_client().get("/healthz").status_code == 503
    assert not (tmp_path / "nowhere").exists()
