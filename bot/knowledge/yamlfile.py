"""Read YAML keeping the line of every mapping and string, for `file:line` messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from .problems import Problem


class LineStr(str):
    """A string that remembers the line it came from."""

    line: int = 0


class LineDict(dict):
    """A mapping that remembers the line it starts on and any key given twice."""

    line: int = 0
    duplicate_keys: tuple[tuple[str, int], ...] = ()


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose strings and mappings carry their line numbers."""


class _FastLineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same on libyaml's parser where PyYAML has it: ten times faster on a large base. Its syntax errors
    point elsewhere than the pure-Python parser's, so a file it refuses is parsed again for the message."""


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> LineStr:
    value = LineStr(loader.construct_scalar(node))
    value.line = node.start_mark.line + 1
    return value


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    duplicates = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            duplicates.append((str(key), key_node.start_mark.line + 1))
        result[key] = loader.construct_object(value_node, deep=True)
    result.duplicate_keys = tuple(duplicates)
    return result


def _construct_date_as_text(loader: _LineLoader, node: yaml.ScalarNode) -> LineStr:
    """Keep dates as text: operators write `reviewed: 2026-11-26` and we check the format ourselves."""
    return _construct_str(loader, node)


for _loader in (_LineLoader, _FastLineLoader):
    _loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
    _loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date_as_text)


def read_yaml(path: Path, label: str) -> tuple[object, list[Problem]]:
    """Parse one file; on a syntax error return None and the problem at its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(label, 1, f"file is not UTF-8 text ({exc.reason} at byte {exc.start})", unreadable=True)]
    try:
        data = _load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(label, line, f"YAML syntax error: {exc.problem or exc.context}", unreadable=True)]
    problems = [
        Problem(label, line, f"field '{key}' is given twice")
        for mapping in _mappings(data)
        for key, line in mapping.duplicate_keys
    ]
    return data, problems


def _load(text: str) -> object:
    try:
        return yaml.load(text, Loader=_FastLineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - raises again, with the pure-Python parser's line


def _mappings(data: object):
    if isinstance(data, LineDict):
        yield data
        for value in data.values():
            yield from _mappings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _mappings(item)


def line_of(value: object, default: int = 1) -> int:
    """The line a parsed value came from, or `default` for numbers and the like."""
    return getattr(value, "line", default) or default


def is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
