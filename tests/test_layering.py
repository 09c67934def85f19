"""Imports point one way: handlers → bot → bot.knowledge; nothing imports handlers or app; only handlers use Flask."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "bot/knowledge": {"handlers", "app", "flask", "wechatpy"},
    "bot": {"handlers", "app", "flask", "wechatpy"},
    "handlers": {"app"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_knowledge_code_imports_nothing_else_of_bot():
    for path in (ROOT / "bot" / "knowledge").rglob("*.py"):
        others = {m for m in imported_modules(path) if m.startswith("bot") and not m.startswith("bot.knowledge")}
        assert others == set(), path


def test_the_operators_folder_holds_no_code():
    assert sorted(p.name for p in (ROOT / "knowledge").rglob("*.py")) == []


def test_bot_never_reads_the_environment():
    for path in (ROOT / "bot").rglob("*.py"):
        assert "os.environ" not in path.read_text(encoding="utf-8"), path
