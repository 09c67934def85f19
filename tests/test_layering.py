"""Imports point one way: handlers → bot → knowledge; nothing imports handlers or app; only handlers import Flask."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "knowledge": {"bot", "handlers", "app", "flask", "wechatpy"},
    "bot": {"handlers", "app", "flask", "wechatpy"},
    "handlers": {"app"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_bot_never_reads_the_environment():
    for path in (ROOT / "bot").rglob("*.py"):
        assert "os.environ" not in path.read_text(encoding="utf-8"), path
