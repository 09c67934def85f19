"""Shared fixtures: the app on a temp database, the project's knowledge base, a breakable copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import engines
import pytest
from admin_console import Operator, create_user
from hypothesis import settings

import bot.knowledge as knowledge
from app import SETTINGS, create_app
from bot import Incoming
from bot.matching import Matcher

DATA = Path(__file__).resolve().parent / "data"

# Property tests without their own max_examples (the fuzz suite above all): bounded in `make test`;
# `pytest --hypothesis-profile=fuzz` is the long run README describes.
settings.register_profile("bounded", max_examples=120, deadline=None, database=None)
settings.register_profile("fuzz", max_examples=10_000, deadline=None, database=None)
settings.load_profile("bounded")


def pytest_generate_tests(metafunc):
    """Tests marked `engines` run once on SQLite and once on Redis + PostgreSQL (tests/engines.py)."""
    if "engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker("engines"):
        metafunc.parametrize("engine", engines.ENGINES, indirect=True, scope="module")


@pytest.fixture(scope="module")
def engine(request) -> str:
    """The storage engine a test runs on: SQLite unless the test is marked `engines`."""
    return getattr(request, "param", engines.SQLITE)


@pytest.fixture
def storage(engine, tmp_path):
    """create_app settings for an empty store on this test's engine."""
    with engines.store(engine, tmp_path) as settings:
        yield settings


@pytest.fixture(scope="module")
def module_storage(engine, tmp_path_factory):
    """create_app settings for an empty store on the engine, shared by a module's tests."""
    with engines.store(engine, tmp_path_factory.mktemp("store")) as settings:
        yield settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Tests see the defaults, never the developer's shell settings, and never a version they published."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("KNOWLEDGE_STORE", str(tmp_path / "knowledge-store"))


@pytest.fixture(scope="session")
def kb():
    return knowledge.load()


@pytest.fixture(scope="session")
def matcher(kb):
    """Built once: a Matcher loads jieba's dictionary, which takes about a second."""
    return Matcher(kb)


@pytest.fixture
def kb_dir(tmp_path) -> Path:
    """A copy of the project's knowledge directory that a test may break."""
    target = tmp_path / "knowledge"
    shutil.copytree(knowledge.DEFAULT_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def app(storage):
    app = create_app({"TESTING": True, **storage, "KNOWLEDGE_RELOAD_SECONDS": 0})
    yield app
    app.extensions["bot"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def bot(module_storage, tmp_path_factory):
    """The app's bot, built once: building a matcher takes seconds. Each test talks as its own user."""
    folder = tmp_path_factory.mktemp("store")
    settings = {"TESTING": True, **module_storage, "KNOWLEDGE_RELOAD_SECONDS": 0}
    app = create_app({**settings, "KNOWLEDGE_STORE": str(folder / "knowledge-store")})
    yield app.extensions["bot"]
    app.extensions["bot"].close()


@pytest.fixture
def say(bot, request):
    """One WeChat user, new for each test, talking to the bot."""

    def send(text, **fields):
        return bot.respond(Incoming("wechat", request.node.name, text=text, **fields))

    return send


@pytest.fixture
def admin_app(storage, kb_dir):
    """The app serving a copy of the knowledge an operator may edit and publish, on the test's engine."""
    app = create_app(
        {
            "TESTING": True,
            **storage,
            "KNOWLEDGE_DIR": str(kb_dir),
            "KNOWLEDGE_RELOAD_SECONDS": 0,
            "ADMIN_LOGIN_ATTEMPTS": 3,
        }
    )
    yield app
    app.extensions["bot"].close()


def _logged_in(app, name: str, role: str) -> Operator:
    assert create_user(app.test_cli_runner(), name, role).exit_code == 0
    operator = Operator(app.test_client())
    assert operator.log_in(name).status_code == 302
    return operator


@pytest.fixture
def editor(admin_app) -> Operator:
    """ann, an editor, logged in to the console."""
    return _logged_in(admin_app, "ann", "editor")


@pytest.fixture
def publisher(admin_app) -> Operator:
    """pat, a publisher, logged in to the console."""
    return _logged_in(admin_app, "pat", "publisher")
